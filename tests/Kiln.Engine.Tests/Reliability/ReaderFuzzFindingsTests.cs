using System.Text;
using Kiln.Engine.Deploy;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;
using Kiln.Engine.Packages;

namespace Kiln.Engine.Tests.Reliability;

/// <summary>
/// Inputs the reader fuzzer (tests/Kiln.Fuzz, build/fuzz.sh) found escaping Kiln.Engine's readers as raw .NET
/// exceptions or making them allocate what a header claimed; each now ends in a coded <see cref="KilnException"/>.
/// </summary>
public sealed class ReaderFuzzFindingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-fuzz-findings-").FullName;

    [Fact]
    public void Read_ArMemberDeclaringMoreBytesThanTheFile_ThrowsKiln2048WithoutAllocatingThem()
    {
        var deb = Encoding.ASCII.GetBytes("!<arch>\n" + $"{"debian-binary",-16}{"0",-12}{"0",-6}{"0",-6}{"100644",-8}{"9999999999",-10}`\n" + "2.0\n");
        string path = Path.Combine(_directory, "big.deb");
        File.WriteAllBytes(path, deb);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<KilnException>(() => DebArchive.Read(path, "big.deb"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(DiagnosticCodes.PackageArchiveInvalid, e.Diagnostics.Single().Code);
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void Read_CorruptXzMember_ThrowsKiln2048()
    {
        var garbage = new byte[] { 0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0, 1, 2, 3, 4, 5, 6 };
        using var deb = new MemoryStream();
        deb.Write("!<arch>\n"u8);
        deb.Write(Encoding.ASCII.GetBytes($"{"control.tar.xz",-16}{"0",-12}{"0",-6}{"0",-6}{"100644",-8}{garbage.Length,-10}`\n"));
        deb.Write(garbage);
        string path = Path.Combine(_directory, "xz.deb");
        File.WriteAllBytes(path, deb.ToArray());

        var e = Assert.Throws<KilnException>(() => DebArchive.Read(path, "xz.deb"));

        Assert.Equal(DiagnosticCodes.PackageArchiveInvalid, e.Diagnostics.Single().Code);
    }

    [Theory]
    [InlineData("\"packages\":[{\"version\":\"1\"}],")]
    [InlineData("\"packages\":[{\"name\":\"\\ud800\",\"version\":\"1\"}],")]
    [InlineData("")] // no inventory member
    public void Load_ManifestMissingOrMalformedMember_ThrowsKiln5022(string packages)
    {
        string inventory = packages.Length == 0 ? "" : ",\"inventory\":{\"path\":\"inventory/x.txt\",\"digest\":\"sha256:00\"}";
        string path = Path.Combine(_directory, "m.json");
        File.WriteAllText(path, $$"""{"kind":"KilnManifest","content":{{{packages}}"name":"x","version":"1","image":{"digest":"sha256:00"}{{inventory}} } }""");

        var e = Assert.Throws<KilnException>(() => ManifestDocument.Load(path));

        Assert.Equal(DiagnosticCodes.KilnManifestInvalid, e.Diagnostics.Single().Code);
    }

    [Fact]
    public void Plan_DeploymentComponentWithoutVersion_ThrowsKiln5020()
    {
        string path = Path.Combine(_directory, "release.json");
        File.WriteAllText(path, """{"kind":"KilnRelease","schemaVersion":1,"layout":"oci","images":[],"deployments":[{"name":"shop","directory":"deploy/shop","components":["api"]}]}""");

        var e = Assert.Throws<KilnException>(() => KilnEngine.Plan(new PlanRequest(path, path)));

        Assert.Equal(DiagnosticCodes.ReleaseFileInvalid, e.Diagnostics.Single().Code);
        Assert.Contains("deployments[0].components[0]", e.Diagnostics.Single().Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
