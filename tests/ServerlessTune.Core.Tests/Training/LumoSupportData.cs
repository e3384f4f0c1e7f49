using System.Text.Json;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>
/// A small prepared dataset: support answers for the (fictional) Lumo smart lamp. Train and validation
/// ask for the same facts in different words, so validation loss measures whether answers were learned.
/// </summary>
public static class LumoSupportData
{
    public const string System = "You are Lumo support.";

    public static readonly (string Question, string Paraphrase, string Answer)[] Facts =
    [
        ("How do I reset my Lumo lamp?", "What resets the Lumo lamp?", "Hold the dial for ten seconds."),
        ("How long is the warranty?", "What warranty does Lumo have?", "Two years from purchase."),
        ("Which app controls Lumo?", "What app do I need for Lumo?", "The Lumo Home app."),
        ("How do I pair Lumo with my phone?", "How can my phone connect to Lumo?", "Open Lumo Home and tap Add Lamp."),
        ("What bulb does Lumo use?", "Which bulb fits the Lumo lamp?", "A built-in LED, it cannot be replaced."),
        ("Does Lumo work with voice assistants?", "Can I control Lumo by voice?", "Yes, with Alexa and Google Home."),
        ("How do I update the firmware?", "How is Lumo firmware updated?", "Updates install at night over Wi-Fi."),
        ("Why is my lamp blinking red?", "What does a red blink mean?", "It lost Wi-Fi, check your router."),
        ("Can I set a wake-up light?", "Does Lumo have a sunrise alarm?", "Yes, use Sunrise in the app."),
        ("How bright is Lumo?", "What is the maximum brightness?", "Up to 800 lumens."),
        ("Is Lumo waterproof?", "Can Lumo get wet?", "No, keep it indoors and dry."),
        ("How do I return a Lumo lamp?", "What is the return process?", "Email returns@lumo.example within 30 days."),
        ("What power supply does it need?", "Which charger does Lumo use?", "The included 12 volt adapter."),
        ("Can I change the color?", "Does Lumo support colors?", "Yes, sixteen million colors in the app."),
        ("How many lamps can one app control?", "Is there a limit on lamps per app?", "Up to fifty lamps."),
        ("Where is Lumo made?", "Which country makes Lumo?", "It is made in Portugal."),
        ("How do I clean the lamp?", "What should I clean Lumo with?", "Wipe it with a dry cloth."),
        ("Does Lumo have a timer?", "Can Lumo turn off by itself?", "Yes, set Sleep Timer in the app."),
        ("What Wi-Fi does Lumo need?", "Which Wi-Fi band works with Lumo?", "2.4 GHz Wi-Fi only."),
        ("How do I contact support?", "How can I reach a person?", "Call 0800 555 0199, weekdays 9 to 5."),
        ("Can two people share a lamp?", "Can my partner control my lamp?", "Yes, invite them under Sharing."),
        ("What does the dial do?", "What is the dial for?", "Turn it to dim, press it to switch off."),
        ("Is there a night mode?", "Does Lumo dim for night?", "Yes, Night Mode sets a warm glow."),
        ("How heavy is Lumo?", "What does Lumo weigh?", "It weighs 1.2 kilograms."),
    ];

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "train.jsonl"), Facts.Select(f => Line(f.Question, f.Answer)));
        File.WriteAllLines(Path.Combine(directory, "validation.jsonl"), Facts.Take(8).Select(f => Line(f.Paraphrase, f.Answer)));
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
