using System.Collections.Immutable;
using System.Security.Cryptography;
using Kiln.Engine.Attestation;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Engine.Tests.Manifests;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Attestation;

/// <summary>
/// <c>kiln verify-image</c> on a real layout on disk: a signed image verifies; a tampered image, a tampered
/// attestation, a wrong key, an unsigned build and a dependency that disagrees with the lock are each refused with
/// their own code.
/// </summary>
public sealed class ImageVerifierTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-verify-image-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Layout => Path.Combine(_directory, "oci");

    private string WriteKey(string name, out string publicPem) => Kiln.Tests.Shared.SigningKeyFiles.Write(_directory, name, out publicPem);

    /// <summary>A one-layer image in a layout, tagged orders-api:1.4.0, with its provenance attached as Kiln attaches it.</summary>
    private (Descriptor Image, Descriptor Layer, Descriptor Attestation, Building.BuiltImage Built) BuildLayout(string? signingKey)
    {
        var layout = OciLayout.OpenOrCreate(Layout);
        var layer = layout.WriteBlob("layer bytes"u8, MediaTypes.LayerTar);
        var config = layout.WriteBlob(new ImageConfig { DiffIds = [layer.Digest] }.ToJson(), MediaTypes.ImageConfig);
        var manifest = layout.WriteBlob(new ImageManifest(config, [layer]).ToJson(), MediaTypes.ImageManifest);
        var built = ManifestDeterminismTests.Image() with { Manifest = manifest, Config = config };
        built = built with
        {
            Plan = built.Plan with
            {
                Base = built.Plan.Base with { Packages = [new LockedPackage("libc6", "2.36-9", "amd64", new string('a', 64), "pool/libc6.deb", 1)] },
            },
        };
        using var signer = signingKey is null ? null : EcdsaKeySigner.Load(signingKey);
        var statement = ManifestDeterminismTests.Statement(built, ManifestDeterminismTests.Request(), "linux/amd64");
        var envelope = Dsse.Sign(Dsse.InTotoPayloadType, statement, signer);
        var attestation = Referrers.Attach(layout, manifest, Referrers.ProvenanceArtifactType, Dsse.EnvelopeMediaType, envelope, Provenance.PredicateType);
        layout.WriteIndex(new ImageIndex { Manifests = [manifest.WithAnnotation(AnnotationKeys.RefName, "orders-api:1.4.0")] });
        return (manifest, layer, attestation, built);
    }

    private string Code(VerifyImageRequest request) => Assert.Throws<KilnException>(() => KilnEngine.VerifyImage(request)).Diagnostics[0].Code;

    [Fact]
    public void VerifyImage_SignedLayout_Verifies()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, _, _) = BuildLayout(key);

        var result = KilnEngine.VerifyImage(new VerifyImageRequest(Layout, pub));

        Assert.Equal(image.Digest, result.Digest);
        Assert.Equal("orders-api", result.Name);
        Assert.Equal(Provenance.BuilderId, result.BuilderId);
    }

    [Fact]
    public void VerifyImage_WrongKeyOrUnsigned_Kiln2171()
    {
        var key = WriteKey("signing", out _);
        WriteKey("other", out var otherPub);
        BuildLayout(key);

        Assert.Equal(DiagnosticCodes.AttestationSignatureInvalid, Code(new VerifyImageRequest(Layout, otherPub)));

        Directory.Delete(Layout, recursive: true);
        WriteKey("again", out var pub);
        BuildLayout(signingKey: null);
        Assert.Equal(DiagnosticCodes.AttestationSignatureInvalid, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_TamperedLayer_Kiln2176()
    {
        var key = WriteKey("signing", out var pub);
        var (_, layer, _, _) = BuildLayout(key);
        var path = OciLayout.Open(Layout).GetBlobPath(layer.Digest);
        File.SetAttributes(path, FileAttributes.Normal);
        File.WriteAllText(path, "LAYER BYTES");

        Assert.Equal(DiagnosticCodes.ImageTampered, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_TamperedEnvelopeInPlace_Kiln2175()
    {
        var key = WriteKey("signing", out var pub);
        var (_, _, attestation, _) = BuildLayout(key);
        var layout = OciLayout.Open(Layout);
        var envelope = layout.ReadManifest(attestation.Digest).Layers[0];
        var path = layout.GetBlobPath(envelope.Digest);
        File.SetAttributes(path, FileAttributes.Normal);
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path).Select(b => b == (byte)'A' ? (byte)'B' : b)]);

        Assert.Equal(DiagnosticCodes.AttestationMalformed, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_ReattachedAlteredStatementWithOldSignature_Kiln2171()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, attestation, _) = BuildLayout(key);
        var layout = OciLayout.Open(Layout);
        var original = Dsse.Parse(layout.ReadBlob(layout.ReadManifest(attestation.Digest).Layers[0].Digest));
        var altered = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(original.Payload).Replace("\"Release\"", "\"Debug\"", StringComparison.Ordinal));
        Referrers.Attach(layout, image, Referrers.ProvenanceArtifactType, Dsse.EnvelopeMediaType, Dsse.Envelope(original.PayloadType, altered, original.Signatures), Provenance.PredicateType);
        File.Delete(layout.GetBlobPath(attestation.Digest)); // only the forged attestation is left

        Assert.Equal(DiagnosticCodes.AttestationSignatureInvalid, Code(new VerifyImageRequest(Layout, pub)));
    }

    /// <summary>Replaces the image's attestation with one whose statement is edited, then properly signed with <paramref name="key"/>.</summary>
    private void ReattachSigned(string key, Descriptor image, Descriptor attestation, Func<string, string> edit)
    {
        var layout = OciLayout.Open(Layout);
        var original = Dsse.Parse(layout.ReadBlob(layout.ReadManifest(attestation.Digest).Layers[0].Digest));
        var edited = System.Text.Encoding.UTF8.GetBytes(edit(System.Text.Encoding.UTF8.GetString(original.Payload)));
        using var signer = EcdsaKeySigner.Load(key);
        Referrers.Attach(layout, image, Referrers.ProvenanceArtifactType, Dsse.EnvelopeMediaType, Dsse.Sign(Dsse.InTotoPayloadType, edited, signer), Provenance.PredicateType);
        File.Delete(layout.GetBlobPath(attestation.Digest));
    }

    [Fact]
    public void VerifyImage_SignedStatementNamingAnotherImage_Kiln2172()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, attestation, _) = BuildLayout(key);
        var other = Convert.ToHexStringLower(SHA256.HashData("another image"u8));

        ReattachSigned(key, image, attestation, statement => statement.Replace(image.Digest.Encoded, other, StringComparison.Ordinal));

        Assert.Equal(DiagnosticCodes.AttestationSubjectMismatch, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_SignedStatementOfAnotherBuilder_Kiln2173()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, attestation, _) = BuildLayout(key);

        ReattachSigned(key, image, attestation, statement => statement.Replace(Provenance.BuilderId, "https://example.com/other-builder", StringComparison.Ordinal));

        Assert.Equal(DiagnosticCodes.AttestationBuilderMismatch, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_NoAttestation_Kiln2170()
    {
        var key = WriteKey("signing", out var pub);
        var (_, _, attestation, _) = BuildLayout(key);
        File.Delete(OciLayout.Open(Layout).GetBlobPath(attestation.Digest));

        Assert.Equal(DiagnosticCodes.AttestationMissing, Code(new VerifyImageRequest(Layout, pub)));
    }

    [Fact]
    public void VerifyImage_LockAgreesOrDisagrees_VerifiesOrKiln2174()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, _, _) = BuildLayout(key);
        var lockPath = Path.Combine(_directory, KilnLock.FileName);
        KilnLock Lock(string imageDigest, string packageSha) => KilnLock.Empty with
        {
            Servers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, ImmutableSortedDictionary<string, LockedVersion>>("orders-api", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, LockedVersion>("1.4.0", new LockedVersion(imageDigest))]))]),
            PackageBases = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, LockedPackageSet>("bookworm", new LockedPackageSet("bookworm", "amd64", [new LockedPackage("libc6", "2.36-9", "amd64", packageSha, "pool/libc6.deb", 1)]))]),
        };

        Lock(image.Digest.ToString(), new string('a', 64)).Save(lockPath);
        Assert.Equal(2, KilnEngine.VerifyImage(new VerifyImageRequest(Layout, pub, LockFile: lockPath)).DependenciesCheckedAgainstLock);

        Lock(image.Digest.ToString(), new string('b', 64)).Save(lockPath);
        Assert.Equal(DiagnosticCodes.AttestationDependencyMismatch, Code(new VerifyImageRequest(Layout, pub, LockFile: lockPath)));

        Lock("sha256:" + new string('9', 64), new string('a', 64)).Save(lockPath);
        Assert.Equal(DiagnosticCodes.AttestationDependencyMismatch, Code(new VerifyImageRequest(Layout, pub, LockFile: lockPath)));
    }

    [Fact]
    public void VerifyImage_UnreadableKey_Kiln4031()
    {
        var garbage = Path.Combine(_directory, "garbage.pub");
        File.WriteAllText(garbage, "not a key");

        Assert.Equal(DiagnosticCodes.VerificationKeyUnusable, Code(new VerifyImageRequest(Layout, garbage)));
    }

    [Fact]
    public void VerifyImage_TagNamesAnIndex_VerifiesThePlatformManifest_AndAMissingPlatformIsKiln2160()
    {
        var key = WriteKey("signing", out var pub);
        var (image, _, _, _) = BuildLayout(key);
        var layout = OciLayout.Open(Layout);
        var arm = layout.WriteBlob(new ImageManifest(image, []).ToJson(), MediaTypes.ImageManifest) with { Platform = new Platform("arm64", "linux") };
        var index = layout.WriteBlob(
            new ImageIndex { Manifests = [image with { Platform = new Platform("amd64", "linux") }, arm] }.ToJson(),
            MediaTypes.ImageIndex);
        layout.WriteIndex(new ImageIndex { Manifests = [index.WithAnnotation(AnnotationKeys.RefName, "orders-api:1.4.0")] });

        var verified = KilnEngine.VerifyImage(new VerifyImageRequest(Layout, pub));
        var missing = Assert.Throws<KilnException>(() => KilnEngine.VerifyImage(new VerifyImageRequest(Layout, pub) { Platform = new Platform("s390x", "linux") }));

        Assert.Equal(image.Digest, verified.Digest);
        Assert.Equal(DiagnosticCodes.ImagePlatformMissing, missing.Diagnostics[0].Code);
        Assert.Contains("without an image for linux/s390x; it has: linux/amd64, linux/arm64", missing.Diagnostics[0].Message);
    }
}
