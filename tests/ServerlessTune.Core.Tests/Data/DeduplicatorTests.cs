using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Dedup;

namespace ServerlessTune.Core.Tests.Data;

public sealed class DeduplicatorTests
{
    static Conversation Qa(string q, string a) => new([new ChatMessage("user", q), new ChatMessage("assistant", a)]);

    static DuplicateCheck Check(Deduplicator dedup, Conversation c) =>
        dedup.Check(ContentKey.Compute(c), MinHasher.Signature(c.Messages.Select(m => m.Content)));

    const string Answer = "Open the Haldor app, tap the lock, then Settings and Auto-lock, and choose a delay between 10 seconds and 5 minutes for the door to lock itself.";

    [Fact]
    public void The_first_occurrence_is_kept_and_later_exact_and_near_copies_point_back_to_it()
    {
        var dedup = new Deduplicator(0.8);
        Assert.Equal(new DuplicateCheck(DuplicateKind.None, 0), Check(dedup, Qa("How do I set auto-lock?", Answer)));
        Assert.Equal(new DuplicateCheck(DuplicateKind.None, 1), Check(dedup, Qa("Is the lock waterproof?", "It is rated IP54.")));
        Assert.Equal(new DuplicateCheck(DuplicateKind.Exact, 0), Check(dedup, Qa("How do I set auto-lock?", Answer)));
        Assert.Equal(new DuplicateCheck(DuplicateKind.Near, 0), Check(dedup, Qa("How do I set auto-lock, please?", Answer)));
    }

    [Fact]
    public void The_avx2_permutations_equal_the_64_bit_ones()
    {
        // Signatures take the AVX2 path where the CPU has it and the 64-bit lanes elsewhere: both must sign alike.
        var random = new Random(7);
        var avx2 = new uint[MinHasher.SignatureLength];
        var portable = new uint[MinHasher.SignatureLength];
        Array.Fill(avx2, uint.MaxValue);
        Array.Fill(portable, uint.MaxValue);
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            // Without AVX2 only the portable path can run, and the other refuses rather than compute something else.
            Assert.Throws<PlatformNotSupportedException>(() => MinHasher.LowerMinimaAvx2(1, ref avx2[0]));
            return;
        }
        for (int i = 0; i < 10_000; i++)
        {
            ulong h = (ulong)random.NextInt64() * 2 + (ulong)random.Next(2);
            MinHasher.LowerMinimaAvx2(h, ref avx2[0]);
            MinHasher.LowerMinima(h, ref portable[0]);
            Assert.Equal(portable, avx2);
        }
    }

    [Fact]
    public void Different_content_and_different_roles_are_not_duplicates()
    {
        var dedup = new Deduplicator(0.8);
        Assert.Equal(DuplicateKind.None, Check(dedup, Qa("How do I set auto-lock?", Answer)).Kind);
        Assert.Equal(DuplicateKind.None, Check(dedup, Qa("How do I change the battery?", "Slide the cover up and replace the four AA cells; the lock keeps its settings.")).Kind);
        var swapped = new Conversation([new ChatMessage("assistant", "How do I set auto-lock?"), new ChatMessage("user", Answer)]);
        Assert.NotEqual(ContentKey.Compute(Qa("How do I set auto-lock?", Answer)), ContentKey.Compute(swapped));
    }

    [Fact]
    public void The_threshold_decides_near_duplicates()
    {
        var original = Qa("How do I set auto-lock?", Answer);
        var edited = Qa("How can I configure auto-lock on my door?", Answer.Replace("choose a delay", "pick any delay you like"));
        double similarity = MinHasher.Similarity(MinHasher.Signature(edited.Messages.Select(m => m.Content))!,
            MinHasher.Signature(original.Messages.Select(m => m.Content))!);
        Assert.InRange(similarity, 0.3, 0.9);

        var strict = new Deduplicator(0.95);
        Check(strict, original);
        Assert.Equal(DuplicateKind.None, Check(strict, edited).Kind);
        var loose = new Deduplicator(similarity - 0.01);
        Check(loose, original);
        Assert.Equal(DuplicateKind.Near, Check(loose, edited).Kind);
    }

    [Fact]
    public void Minhash_estimates_jaccard_of_word_shingles()
    {
        // 100 shared words plus 20 different ones per side: shingle Jaccard = 98 / (98 + 2 * 20) ~ 0.71 (edges shift it slightly).
        var shared = Enumerable.Range(0, 100).Select(i => $"w{i}");
        string a = string.Join(' ', shared.Concat(Enumerable.Range(0, 20).Select(i => $"a{i}")));
        string b = string.Join(' ', shared.Concat(Enumerable.Range(0, 20).Select(i => $"b{i}")));
        double estimate = MinHasher.Similarity(MinHasher.Signature([a])!, MinHasher.Signature([b])!);
        Assert.InRange(estimate, 0.55, 0.87);
        Assert.Equal(1.0, MinHasher.Similarity(MinHasher.Signature([a])!, MinHasher.Signature([a.ToUpperInvariant()])!));
        Assert.Null(MinHasher.Signature(["  ... !!"]));
    }

    [Fact]
    public void Near_duplicate_decisions_are_sound_and_find_what_a_search_of_every_pair_finds()
    {
        // 1,500 originals of 40 words from a 300-word vocabulary, each followed now and then by a copy with one word changed.
        var random = new Random(7);
        var texts = new List<string>();
        for (int i = 0; i < 1500; i++)
        {
            var words = Enumerable.Range(0, 40).Select(_ => $"w{random.Next(300)}").ToArray();
            texts.Add(string.Join(' ', words));
            if (random.Next(3) == 0)
            {
                words[random.Next(words.Length)] = "changed";
                texts.Add(string.Join(' ', words));
            }
        }
        var dedup = new Deduplicator(0.8);
        var kept = new List<byte[]>();
        int expectedNear = 0, foundNear = 0;
        foreach (string text in texts)
        {
            var conversation = Qa("q", text);
            var signature = MinHasher.Signature(conversation.Messages.Select(m => m.Content))!;
            bool anyAbove = kept.Any(k => MinHasher.Similarity(signature, k) >= 0.8);
            var check = dedup.Check(ContentKey.Compute(conversation), signature);
            if (check.Kind == DuplicateKind.Near)
            {
                Assert.True(MinHasher.Similarity(signature, kept[check.Original]) >= 0.8, "a near duplicate must be similar to the record it names");
                foundNear++;
            }
            else
            {
                Assert.Equal(DuplicateKind.None, check.Kind);
                Assert.Equal(kept.Count, check.Original);
                kept.Add(signature);
            }
            if (anyAbove) expectedNear++;
        }
        Assert.InRange(expectedNear, 400, 600);
        Assert.InRange(foundNear, (int)(expectedNear * 0.99), expectedNear);
    }

    [Fact]
    public void State_per_kept_record_is_a_few_hundred_bytes_whatever_the_text_length()
    {
        var dedup = new Deduplicator(0.8);
        var random = new Random(3);
        const int records = 100_000;
        var signature = new byte[MinHasher.SignatureLength];
        for (int i = 0; i < records; i++)
        {
            random.NextBytes(signature);
            Assert.Equal(DuplicateKind.None, dedup.Check(new UInt128((ulong)random.NextInt64(), (ulong)i), signature).Kind);
        }
        Assert.InRange(dedup.StateBytes / (double)records, 80, 300);
    }
}
