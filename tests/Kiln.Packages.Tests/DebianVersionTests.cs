using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Kiln.Engine.Packages;
using Kiln.Tests.Shared;

namespace Kiln.Packages.Tests;

public sealed class DebianVersionTests
{
    private static readonly Uri[] Indexes =
    [
        new("http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages.xz"),
        new("http://deb.debian.org/debian/dists/bookworm-updates/main/binary-amd64/Packages.xz"),
        new("http://deb.debian.org/debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz"),
    ];

    [Theory]
    [InlineData("1.9999999999999999999", "1.1", 1)]
    [InlineData("1.99999999999999999999999", "1.99999999999999999999998", 1)]
    [InlineData("1.0001", "1.1", 0)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1.0", "1.0-0", 0)]
    [InlineData("1:0.1", "9.9", 1)]
    [InlineData("1.0a", "1.0+", -1)]
    [InlineData("2.36-9+deb12u4", "2.36-9+deb12u10", -1)]
    public void Compare_EdgeCases_AgreesWithDpkgSemantics(string a, string b, int expected)
    {
        Assert.Equal(expected, Math.Sign(DebianVersion.Compare(a, b)));
        Assert.Equal(-expected, Math.Sign(DebianVersion.Compare(b, a)));
    }

    [SkippableFact]
    public async Task Compare_ThousandsOfRealVersionPairs_AgreesWithDpkgCompareVersions()
    {
        ToolPolicy.Require("dpkg", "dpkg", "the comparison is checked against dpkg --compare-versions");

        // Versions per package from the real bookworm, bookworm-updates and bookworm-security indexes.
        var versions = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
        foreach (var uri in Indexes)
        {
            byte[] bytes;
            try
            {
                bytes = await http.GetByteArrayAsync(uri);
            }
            catch (HttpRequestException e)
            {
                ToolPolicy.Unavailable($"The Debian mirror is not reachable ({e.Message}).");
                return;
            }

            using var reader = new StreamReader(new SharpCompress.Compressors.Xz.XZStream(new MemoryStream(bytes)), Encoding.UTF8);
            foreach (var paragraph in ControlParagraph.ReadAll(reader))
            {
                if (paragraph["Package"] is { } name && paragraph["Version"] is { } version)
                {
                    if (!versions.TryGetValue(name, out var set))
                    {
                        versions[name] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(version);
                }
            }
        }

        var pairs = new List<(string A, string B)>();

        // Every package with more than one version (the pairs that decide which candidate wins across suites).
        foreach (var set in versions.Values.Where(s => s.Count > 1))
        {
            var list = set.ToList();
            for (var i = 1; i < list.Count; i++)
            {
                pairs.Add((list[i - 1], list[i]));
            }
        }

        // Random pairs across all packages, seeded so that a failure reproduces.
        var all = versions.Values.SelectMany(s => s).Distinct().Order(StringComparer.Ordinal).ToArray();
        var random = new Random(20240610);
        while (pairs.Count < 4000)
        {
            pairs.Add((all[random.Next(all.Length)], all[random.Next(all.Length)]));
        }

        var expected = DpkgCompare(pairs);
        var disagreements = pairs.Zip(expected)
            .Where(p => Math.Sign(DebianVersion.Compare(p.First.A, p.First.B)) != p.Second)
            .Select(p => $"{p.First.A} vs {p.First.B}: dpkg {p.Second}, Kiln {Math.Sign(DebianVersion.Compare(p.First.A, p.First.B))}")
            .ToList();
        Assert.True(pairs.Count >= 4000);
        Assert.Empty(disagreements);
    }

    /// <summary>Runs dpkg --compare-versions on every pair in one shell (one process per comparison, not per test step).</summary>
    private static List<int> DpkgCompare(List<(string A, string B)> pairs)
    {
        var directory = Directory.CreateTempSubdirectory("kiln-dpkg-versions-");
        try
        {
            var input = Path.Combine(directory.FullName, "pairs");
            File.WriteAllLines(input, pairs.Select(p => $"{p.A} {p.B}"));
            var start = new ProcessStartInfo("/bin/sh")
            {
                ArgumentList =
                {
                    "-c",
                    "while read a b; do if dpkg --compare-versions \"$a\" lt \"$b\"; then echo -1; elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo 0; else echo 1; fi; done < \"$1\"",
                    "sh",
                    input,
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr.Result);
            var results = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
            Assert.Equal(pairs.Count, results.Count);
            return results;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
