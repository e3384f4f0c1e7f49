using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Tests.Data;

public sealed class PiiRedactorTests
{
    static (string Text, int[] Counts) Redact(string text)
    {
        var counts = new int[PiiRedactor.TypeCount];
        return (PiiRedactor.Redact(text, counts), counts);
    }

    [Theory]
    [InlineData("4111 1111 1111 1111")]       // Visa test number
    [InlineData("5500-0000-0000-0004")]       // Mastercard
    [InlineData("378282246310005")]           // Amex, 15 digits
    [InlineData("6011111111111117")]          // Discover
    public void Card_numbers_that_pass_luhn_are_redacted(string card)
    {
        var (text, counts) = Redact($"I paid with {card} yesterday.");
        Assert.Equal("I paid with [CARD] yesterday.", text);
        Assert.Equal(1, counts[(int)PiiType.Card]);
    }

    [Theory]
    [InlineData("4111 1111 1111 1112")]
    [InlineData("5500-0000-0000-0005")]
    [InlineData("1234567890123456")]
    public void Card_shaped_numbers_failing_luhn_are_left_alone(string number)
    {
        var (text, counts) = Redact($"Reference {number} on the box.");
        Assert.Equal($"Reference {number} on the box.", text);
        Assert.Equal(0, counts.Sum());
    }

    [Theory]
    [InlineData("DE89 3704 0044 0532 0130 00")]
    [InlineData("GB82 WEST 1234 5698 7654 32")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606")]
    [InlineData("NL91ABNA0417164300")]
    [InlineData("gb82 west 1234 5698 7654 32")]
    [InlineData("de89370400440532013000")]
    public void Ibans_that_pass_mod_97_are_redacted(string iban)
    {
        var (text, counts) = Redact($"Refund to IBAN {iban} please.");
        Assert.Equal("Refund to IBAN [IBAN] please.", text);
        Assert.Equal(1, counts[(int)PiiType.Iban]);
    }

    [Theory]
    [InlineData("DE89 3704 0044 0532 0130 01")]
    [InlineData("GB82 WEST 1234 5698 7654 33")]
    [InlineData("ZZ12 3456 7890 1234 5678 90")]
    [InlineData("gb82 west 1234 5698 7654 33")]
    public void Iban_shaped_strings_failing_mod_97_or_country_length_are_left_alone(string notIban)
    {
        var (text, counts) = Redact($"Code {notIban} printed.");
        Assert.Equal(0, counts[(int)PiiType.Iban]);
        Assert.DoesNotContain("[IBAN]", text);
    }

    [Theory]
    [InlineData("jane.doe@example.com")]
    [InlineData("support+eu@haldor-home.co.uk")]
    [InlineData("O'Brien.J@mail.example.ie")]
    public void Emails_are_redacted(string email)
    {
        var (text, counts) = Redact($"Write to {email}.");
        Assert.Equal(1, counts[(int)PiiType.Email]);
        Assert.DoesNotContain("@", text);
    }

    [Theory]
    [InlineData("+1 (415) 555-0132")]     // US, international
    [InlineData("(415) 555-0132")]        // US, national
    [InlineData("415-555-0132")]          // US, dashes
    [InlineData("+44 20 7946 0958")]      // UK
    [InlineData("020 7946 0958")]         // UK, national
    [InlineData("+49 30 12345678")]       // Germany
    [InlineData("030 1234 5678")]         // Germany, national
    [InlineData("+33 1 23 45 67 89")]     // France
    [InlineData("01 23 45 67 89")]        // France, national
    [InlineData("+91 98765 43210")]       // India
    [InlineData("+81 3-1234-5678")]       // Japan
    [InlineData("+4915112345678")]        // Germany, no separators
    [InlineData("(+44) (20) 7946 0958")]  // the widest gap between two digits of one number: ") ("
    public void Phone_numbers_from_several_countries_are_redacted(string phone)
    {
        var (text, counts) = Redact($"Call me on {phone} after 5.");
        Assert.Equal("Call me on [PHONE] after 5.", text);
        Assert.Equal(1, counts[(int)PiiType.Phone]);
    }

    [Theory]
    [InlineData("Your order #100234567 has shipped.")]
    [InlineData("Order HD-2024-118734 was refunded.")]
    [InlineData("Order number 2024-0042-7781 is on its way.")]
    [InlineData("Delivered on 2024-03-15 at 14:30.")]
    [InlineData("Delivered on 15/03/2024.")]
    [InlineData("Appointment 15.03.2024 14:30 confirmed.")]
    [InlineData("Appointment 05.03.2024 14.30 confirmed.")]
    [InlineData("Firmware v2.4.1 fixes it; 3.10 is next.")]
    [InlineData("The S2 costs $1,299.00 or 1 299,00 EUR.")]
    [InlineData("Serial SN 4417-2210-98 is on the label.")]
    [InlineData("We sold 10 000 units in 2023.")]
    [InlineData("Use `std::vector<int>` in C++.")]
    public void Text_that_merely_looks_like_a_number_is_left_alone(string sentence)
    {
        var (text, counts) = Redact(sentence);
        Assert.Equal(sentence, text);
        Assert.Equal(0, counts.Sum());
    }

    [Fact]
    public void Ip_addresses_and_ssns_are_redacted_but_short_version_numbers_are_not()
    {
        var (text, counts) = Redact("Bridge at 192.168.1.20 and 2001:db8::8a2e:370:7334; SSN 123-45-6789; app 1.2.3; bad SSN 000-12-3456.");
        Assert.Equal("Bridge at [IP] and [IP]; SSN [SSN]; app 1.2.3; bad SSN 000-12-3456.", text);
        Assert.Equal(2, counts[(int)PiiType.Ip]);
        Assert.Equal(1, counts[(int)PiiType.Ssn]);
    }

    [Fact]
    public void Several_kinds_in_one_text_are_each_counted()
    {
        var (text, counts) = Redact("Jane (jane@example.com, +44 20 7946 0958) paid 4111-1111-1111-1111 from DE89370400440532013000.");
        Assert.Equal("Jane ([EMAIL], [PHONE]) paid [CARD] from [IBAN].", text);
        Assert.Equal(new[] { 1, 1, 1, 1, 0, 0 }, counts);
    }
}
