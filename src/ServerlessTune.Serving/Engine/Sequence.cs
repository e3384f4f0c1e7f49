using System.Threading.Channels;
using ServerlessTune.Core.Generation;
using static TorchSharp.torch;

namespace ServerlessTune.Serving.Engine;

/// <summary>
/// A sequence's state inside the engine: its slot, sampler (own seeded generator), text with stop strings,
/// penalty state and the channel its events go to. Owned by the decode loop's thread alone.
/// </summary>
sealed class Sequence : IDisposable
{
    readonly Channel<SequenceEvent> events = Channel.CreateUnbounded<SequenceEvent>(new() { SingleReader = true, SingleWriter = true });

    public Sequence(SequenceRequest request, int budget, Func<IEnumerable<int>, string> decode, CancellationToken cancellation)
    {
        Request = request;
        Budget = budget;
        Cancellation = cancellation;
        Text = new SequenceText(decode, new StopStrings(request.Options.StopStrings));
    }

    public SequenceRequest Request { get; }
    public int Budget { get; }
    public CancellationToken Cancellation { get; }
    public SequenceText Text { get; }
    public ChannelReader<SequenceEvent> Events => events.Reader;
    public int Slot { get; set; } = -1;
    public int Generated { get; set; }
    /// <summary>The token the next decode step feeds.</summary>
    public long Last { get; set; }
    public TokenSampler? Sampler { get; set; }
    /// <summary>[1, V] bool of prompt and output tokens, when the repetition penalty needs it.</summary>
    public Tensor? Seen { get; set; }
    /// <summary>[1, V] float32 output token counts, when frequency or presence penalties need them.</summary>
    public Tensor? Counts { get; set; }

    public void Emit(SequenceEvent e) => events.Writer.TryWrite(e);

    public void Complete(Exception? error = null) => events.Writer.TryComplete(error);

    public void Dispose()
    {
        Sampler?.Dispose();
        Seen?.Dispose();
        Counts?.Dispose();
    }
}
