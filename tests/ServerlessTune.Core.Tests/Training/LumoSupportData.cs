using System.Text.Json;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>
/// A small prepared dataset: support answers for the (fictional) Lumo smart lamp. Train and validation
/// ask for the same facts in different words, so validation loss measures whether answers were learned.
/// </summary>
public static class LumoSupportData
{
    public const string System = "You are Lumo support.";
    const string ValidationGreeting = "Hello! ";

    public static readonly (string Question, string Answer)[] Facts =
    [
        ("How do I reset my Lumo lamp?", "Hold the dial for ten seconds."),
        ("How long is the warranty?", "Two years from purchase."),
        ("Which app controls Lumo?", "The Lumo Home app."),
        ("How do I pair Lumo with my phone?", "Open Lumo Home and tap Add Lamp."),
        ("What bulb does Lumo use?", "A built-in LED, it cannot be replaced."),
        ("Does Lumo work with voice assistants?", "Yes, with Alexa and Google Home."),
        ("How do I update the firmware?", "Updates install at night over Wi-Fi."),
        ("Why is my lamp blinking red?", "It lost Wi-Fi, check your router."),
        ("Can I set a wake-up light?", "Yes, use Sunrise in the app."),
        ("How bright is Lumo?", "Up to 800 lumens."),
        ("Is Lumo waterproof?", "No, keep it indoors and dry."),
        ("How do I return a Lumo lamp?", "Email returns@lumo.example within 30 days."),
        ("What power supply does it need?", "The included 12 volt adapter."),
        ("Can I change the color?", "Yes, sixteen million colors in the app."),
        ("How many lamps can one app control?", "Up to fifty lamps."),
        ("Where is Lumo made?", "It is made in Portugal."),
        ("How do I clean the lamp?", "Wipe it with a dry cloth."),
        ("Does Lumo have a timer?", "Yes, set Sleep Timer in the app."),
        ("What Wi-Fi does Lumo need?", "2.4 GHz Wi-Fi only."),
        ("How do I contact support?", "Call 0800 555 0199, weekdays 9 to 5."),
        ("Can two people share a lamp?", "Yes, invite them under Sharing."),
        ("What does the dial do?", "Turn it to dim, press it to switch off."),
        ("Is there a night mode?", "Yes, Night Mode sets a warm glow."),
        ("How heavy is Lumo?", "It weighs 1.2 kilograms."),
    ];

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "train.jsonl"), Facts.Select(f => Line(f.Question, f.Answer)));
        File.WriteAllLines(Path.Combine(directory, "validation.jsonl"), Facts.Take(8).Select(f => Line(ValidationGreeting + f.Question, f.Answer)));
    }

    /// <summary>
    /// Eight facts to train on; validation asks the same eight questions but expects answers the training data never
    /// has, so once the model has the training answers by heart, every further step makes validation worse.
    /// </summary>
    public static void WriteConflicting(string directory)
    {
        Directory.CreateDirectory(directory);
        var facts = Facts.Take(8).ToArray();
        File.WriteAllLines(Path.Combine(directory, "train.jsonl"), facts.Select(f => Line(f.Question, f.Answer)));
        File.WriteAllLines(Path.Combine(directory, "validation.jsonl"), facts.Select((f, i) => Line(f.Question, Facts[facts.Length + i].Answer)));
    }

    public static string Line(string question, string answer) => JsonSerializer.Serialize(new
    {
        messages = new object[]
        {
            new { role = "system", content = System },
            new { role = "user", content = question },
            new { role = "assistant", content = answer },
        },
    });
}
