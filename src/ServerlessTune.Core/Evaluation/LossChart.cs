using System.Globalization;
using System.Text;

namespace ServerlessTune.Core.Evaluation;

/// <summary>An inline SVG line chart of training and validation loss against step (no script, no external resources).</summary>
public static class LossChart
{
    const double Width = 640, Height = 320, Left = 56, Right = 16, Top = 16, Bottom = 40;
    const double Ticks = 5;

    /// <summary>The SVG element, or null when the curve has no finite loss to draw.</summary>
    public static string? Render(TrainingCurve curve)
    {
        var train = curve.Points.Where(p => p.Loss is { } l && double.IsFinite(l)).Select(p => (X: (double)p.Step, Y: p.Loss!.Value)).ToList();
        var validation = curve.Points.Where(p => p.ValLoss is { } l && double.IsFinite(l)).Select(p => (X: (double)p.Step, Y: p.ValLoss!.Value)).ToList();
        var all = train.Concat(validation).ToList();
        if (all.Count == 0)
            return null;

        var (xMin, xMax) = Range(all.Select(p => p.X), 0);
        var (yMin, yMax) = Range(all.Select(p => p.Y), 0.05);
        double ToX(double x) => Left + (x - xMin) / (xMax - xMin) * (Width - Left - Right);
        double ToY(double y) => Top + (yMax - y) / (yMax - yMin) * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"loss-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"training loss by step\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" class=\"plot\"/>");
        foreach (var y in NiceTicks(yMin, yMax))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{F(ToY(y))}\" y2=\"{F(ToY(y))}\" class=\"grid\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{F(ToY(y) + 4)}\" text-anchor=\"end\">{ReportFormat.Number(y)}</text>");
        }
        // Steps are whole numbers, so their ticks are too.
        foreach (var x in NiceTicks(xMin, xMax).Where(x => x == Math.Floor(x)))
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(ToX(x))}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{ReportFormat.Number(x)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F((Left + Width - Right) / 2)}\" y=\"{Height - 6}\" text-anchor=\"middle\">step</text>");
        AppendSeries(svg, train, "loss", ToX, ToY);
        AppendSeries(svg, validation, "val-loss", ToX, ToY);
        AppendLegend(svg, train.Count > 0, validation.Count > 0);
        svg.Append("</svg>");
        return svg.ToString();
    }

    static void AppendSeries(StringBuilder svg, List<(double X, double Y)> points, string cssClass, Func<double, double> toX, Func<double, double> toY)
    {
        if (points.Count == 0)
            return;
        var coordinates = string.Join(' ', points.OrderBy(p => p.X).Select(p => $"{F(toX(p.X))},{F(toY(p.Y))}"));
        svg.Append($"<polyline class=\"{cssClass}\" fill=\"none\" points=\"{coordinates}\"/>");
        // A lone point draws no line; a dot keeps it visible.
        if (points.Count == 1)
            svg.Append($"<circle class=\"{cssClass}\" r=\"3\" cx=\"{F(toX(points[0].X))}\" cy=\"{F(toY(points[0].Y))}\"/>");
    }

    static void AppendLegend(StringBuilder svg, bool hasTrain, bool hasValidation)
    {
        var x = Width - Right - 150;
        if (hasTrain)
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"loss\" x1=\"{x}\" x2=\"{x + 20}\" y1=\"{Top + 14}\" y2=\"{Top + 14}\"/><text x=\"{x + 26}\" y=\"{Top + 18}\">training loss</text>");
        if (hasValidation)
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"val-loss\" x1=\"{x}\" x2=\"{x + 20}\" y1=\"{Top + 32}\" y2=\"{Top + 32}\"/><text x=\"{x + 26}\" y=\"{Top + 36}\">validation loss</text>");
    }

    // About Ticks round values inside [min, max], 1, 2 or 5 times a power of ten apart, choosing the
    // multiplier nearest (geometrically) to the even split, as d3's tick rule does.
    static IEnumerable<double> NiceTicks(double min, double max)
    {
        var raw = (max - min) / Ticks;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var error = raw / magnitude;
        var step = magnitude * (error >= Math.Sqrt(50) ? 10 : error >= Math.Sqrt(10) ? 5 : error >= Math.Sqrt(2) ? 2 : 1);
        var first = Math.Ceiling(min / step);
        for (var i = first; i * step <= max + step * 1e-9; i++)
            yield return Math.Round(i * step, 12);
    }

    // A flat series still needs a non-empty range to scale into.
    static (double Min, double Max) Range(IEnumerable<double> values, double padding)
    {
        var list = values.ToList();
        double min = list.Min(), max = list.Max();
        if (max == min)
            return (min - 1, max + 1);
        var pad = (max - min) * padding;
        return (min - pad, max + pad);
    }

    static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
