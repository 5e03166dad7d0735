using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Kiln.Engine.Packages;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Kiln.Fuzz;

/// <summary>Kiln.Engine's Debian readers: control files, Release and InRelease, Packages indexes, .deb archives.</summary>
internal static class DebianTargets
{
    private const string Control = """
        Package: libfuzz1
        Version: 1:2.36-9+deb12u4
        Architecture: amd64
        Maintainer: Kiln <kiln@kiln.test>
        Pre-Depends: libc6 (>= 2.34)
        Depends: libgcc-s1 (>= 3.0) | libgcc1, zlib1g:any (>= 1:1.2.0) [amd64] <!nocheck>
        Provides: libfuzz, fuzz-abi (= 1)
        Description: fuzz package
         A long description
         .
         with a paragraph.

        """;

    private static readonly string Packages =
        Control.Replace("Description", "Filename: pool/main/libf/libfuzz/libfuzz1_2.36_amd64.deb\nSize: 1234\nSHA256: " + new string('a', 64) + "\nDescription", StringComparison.Ordinal)
        + "Package: tool\nVersion: 1.0~rc1-1\nArchitecture: all\nFilename: pool/main/t/tool/tool_1.0_all.deb\nSize: 99\nSHA256: " + new string('B', 64) + "\nDepends: libfuzz1 (>= 2.36), fuzz-abi\n\n";

    private static readonly string Release = $"""
        Origin: Debian
        Label: Debian
        Suite: stable
        Codename: bookworm
        Date: Sat, 09 Nov 2024 10:03:01 UTC
        Architectures: amd64 arm64
        Components: main contrib
        SHA256:
         {new string('a', 64)}   123456 main/binary-amd64/Packages
         {new string('b', 64)}    23456 main/binary-amd64/Packages.xz
         {new string('c', 64)} 99999999999 main/binary-arm64/Packages.gz
        """;

    private static readonly byte[][] TextTokens =
    [
        .. new[] { "Package:", "Version:", "Architecture: amd64\n", "Size:", "SHA256:\n", "Depends:", " (>= ", ")", "|", ",", "[", "<", ":any", "\n\n", "\n ", "\r\n", "\t", "-----BEGIN PGP SIGNATURE-----\n", "- ", "-----BEGIN PGP SIGNED MESSAGE-----\n", "=", "Hash: SHA512\n" }
            .Select(Encoding.UTF8.GetBytes),
    ];

    public static IEnumerable<FuzzTarget> All() =>
    [
        new()
        {
            Name = "control",
            Description = "ControlParagraph.ReadAll (deb822 control files)",
            Seeds = _ => [Encoding.UTF8.GetBytes(Control), Encoding.UTF8.GetBytes(Packages)],
            Run = (input, unused) => _ = ControlParagraph.Parse(Encoding.UTF8.GetString(input)).Sum(p => p.Text.Length + (p["Package"]?.Length ?? 0)),
            Shape = InputShape.Text,
            Tokens = TextTokens,
        },
        new()
        {
            Name = "packages",
            Description = "PackageIndex.Read (a Packages index) with its dependency relations and versions",
            Seeds = _ => [Encoding.UTF8.GetBytes(Packages)],
            Run = (input, _) => RunPackages(input),
            Shape = InputShape.Text,
            Tokens = TextTokens,
        },
        new()
        {
            Name = "release",
            Description = "ReleaseFile.Parse (the signed text of a Release)",
            Seeds = _ => [Encoding.UTF8.GetBytes(Release)],
            Run = (input, unused) => _ = ReleaseFile.Parse(Encoding.UTF8.GetString(input)).Entries.Count,
            Shape = InputShape.Text,
            Tokens = TextTokens,
        },
        new()
        {
            Name = "inrelease",
            Description = "ReleaseFile.Verify (clear-signed InRelease: armor, signature packets, verification)",
            Seeds = _ => [InRelease.Value.Signed],
            Run = (input, _) => ReleaseFile.Verify(input, InRelease.Value.Keyring, "fuzz/InRelease"),
            Shape = InputShape.Text,
            Tokens = TextTokens,
        },
        new()
        {
            Name = "deb",
            Description = "DebArchive.Read (.deb: ar members, control.tar and data.tar, gzip/xz/zstd/none)",
            Seeds = _ => DebSeeds(),
            Run = (input, scratch) => _ = DebArchive.Read(scratch.WriteInput(input, "fuzz.deb"), "fuzz.deb").Files.Count,
            Shape = InputShape.Tar,
            Tokens = [.. TextTokens, .. new[] { "control.tar.xz", "data.tar.zst", "data.tar.gz", "data.tar.bz2", "debian-binary", "!<arch>\n", "9999999999", "-1        " }.Select(Encoding.ASCII.GetBytes)],
        },
    ];

    private static void RunPackages(byte[] input)
    {
        var index = PackageIndex.Read(new StringReader(Encoding.UTF8.GetString(input)), "amd64");
        foreach (var name in index.Names.ToList())
        {
            foreach (var record in index.Versions(name))
            {
                _ = record.Dependencies.Sum(g => g.Length);
                _ = index.Providers(name).Count();
            }
        }
    }

    private static IReadOnlyList<byte[]> DebSeeds()
    {
        var control = Tar(("./", null), ("./control", Encoding.UTF8.GetBytes(Control.TrimEnd('\n') + "\n")), ("./md5sums", "x  usr/bin/tool\n"u8.ToArray()));
        var data = Tar(("./", null), ("./usr/", null), ("./usr/bin/", null), ("./usr/bin/tool", "#!/bin/sh\necho fuzz\n"u8.ToArray()), ("./usr/share/doc/libfuzz1/copyright", new byte[600]));
        var seeds = new List<byte[]>
        {
            Ar(("debian-binary", "2.0\n"u8.ToArray()), ("control.tar.gz", Gzip(control)), ("data.tar.gz", Gzip(data))),
            Ar(("debian-binary", "2.0\n"u8.ToArray()), ("control.tar", control), ("data.tar", data)),
        };

        // xz (bookworm's default) and zstd (Ubuntu's) members, when the tools are there to make them.
        if (Compress("xz", data) is { } xz && Compress("xz", control) is { } controlXz)
        {
            seeds.Add(Ar(("debian-binary", "2.0\n"u8.ToArray()), ("control.tar.xz", controlXz), ("data.tar.xz", xz)));
        }

        if (Compress("zstd", data) is { } zst)
        {
            seeds.Add(Ar(("debian-binary", "2.0\n"u8.ToArray()), ("control.tar.gz", Gzip(control)), ("data.tar.zst", zst)));
        }

        return seeds;
    }

    private static byte[] Tar(params (string Name, byte[]? Content)[] entries)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = new GnuTarEntry(content is null ? TarEntryType.Directory : TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0b111_101_101 };
                if (content is not null)
                {
                    entry.DataStream = new MemoryStream(content);
                }

                writer.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }

    /// <summary>An ar archive as dpkg-deb writes it (deb(5)): 60-byte headers, members padded to even sizes.</summary>
    private static byte[] Ar(params (string Name, byte[] Content)[] members)
    {
        using var output = new MemoryStream();
        output.Write("!<arch>\n"u8);
        foreach (var (name, content) in members)
        {
            string header = $"{name,-16}{"0",-12}{"0",-6}{"0",-6}{"100644",-8}{content.Length,-10}`\n";
            output.Write(Encoding.ASCII.GetBytes(header));
            output.Write(content);
            if (content.Length % 2 == 1)
            {
                output.WriteByte((byte)'\n');
            }
        }

        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[]? Compress(string tool, byte[] data)
    {
        var start = new ProcessStartInfo(tool, ["-c", "-q"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var process = Process.Start(start)!;
            var output = new MemoryStream();
            var reading = process.StandardOutput.BaseStream.CopyToAsync(output);
            process.StandardInput.BaseStream.Write(data);
            process.StandardInput.Close();
            reading.Wait();
            process.WaitForExit();
            return process.ExitCode == 0 ? output.ToArray() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>A Release clear-signed in code by a key generated from a fixed seed (same bytes on every run),
    /// and a keyring holding that key.</summary>
    private static readonly Lazy<(byte[] Signed, PgpPublicKeyRingBundle Keyring)> InRelease = new(() =>
    {
        var random = new SecureRandom(new DigestRandomGenerator(new Sha256Digest()));
        random.SetSeed(20261130L);
        var generator = new RsaKeyPairGenerator();
        generator.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(0x10001), random, 1024, 12));
        var created = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var keyPair = new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral, generator.GenerateKeyPair(), created);
        var subpackets = new PgpSignatureSubpacketGenerator();
        subpackets.SetSignatureCreationTime(false, created);
        var rings = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, keyPair, "Kiln Fuzz <fuzz@kiln.test>", SymmetricKeyAlgorithmTag.Aes128, Array.Empty<char>(), true, subpackets.Generate(), null, random);
        var keyring = new PgpPublicKeyRingBundle([rings.GeneratePublicKeyRing()]);

        var lines = Release.TrimEnd('\n').Split('\n');
        var signer = new PgpSignatureGenerator(PublicKeyAlgorithmTag.RsaGeneral, HashAlgorithmTag.Sha256);
        signer.InitSign(PgpSignature.CanonicalTextDocument, keyPair.PrivateKey);
        signer.SetHashedSubpackets(subpackets.Generate());
        signer.Update(Encoding.UTF8.GetBytes(string.Join("\r\n", lines)));
        using var armor = new MemoryStream();
        using (var armored = new ArmoredOutputStream(armor))
        {
            signer.Generate().Encode(armored);
        }

        var text = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
            + string.Join("\n", lines.Select(l => l.StartsWith('-') ? "- " + l : l)) + "\n"
            + Encoding.ASCII.GetString(armor.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal);
        return (Encoding.UTF8.GetBytes(text), keyring);
    });
}
