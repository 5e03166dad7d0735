using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kiln.Engine.Attestation;
using Kiln.Engine.Diagnostics;
using Kiln.Tests.Shared;

namespace Kiln.Engine.Tests.Attestation;

/// <summary>
/// DSSE envelopes judged by something Kiln did not write: the pre-authentication encoding is recomputed here from the
/// DSSE spec's definition, and openssl verifies the signature over it with the public key it derived itself.
/// </summary>
public sealed class DsseSignatureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-dsse-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string OpenSsl() => ToolPolicy.Require("openssl", "openssl", "it judges the signatures");

    private static (int ExitCode, string Output) Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    /// <summary>A P-256 key made by openssl (PKCS#8 PEM), and its public half in PEM and DER, also made by openssl.</summary>
    private (string PrivatePem, string PublicPem, byte[] PublicDer) OpenSslKey(string name)
    {
        var openssl = OpenSsl();
        var key = Path.Combine(_directory, name + ".pem");
        var pub = Path.Combine(_directory, name + ".pub");
        var der = Path.Combine(_directory, name + ".pub.der");
        Assert.Equal(0, Run(openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key).ExitCode);
        Assert.Equal(0, Run(openssl, "pkey", "-in", key, "-pubout", "-out", pub).ExitCode);
        Assert.Equal(0, Run(openssl, "pkey", "-in", key, "-pubout", "-outform", "DER", "-out", der).ExitCode);
        return (key, pub, File.ReadAllBytes(der));
    }

    /// <summary>PAE as the DSSE spec defines it, written independently of <see cref="Dsse.PreAuthenticationEncoding"/>.</summary>
    private static byte[] JudgePae(string type, byte[] body) =>
        [.. Encoding.ASCII.GetBytes("DSSEv1 " + Encoding.UTF8.GetByteCount(type).ToString(System.Globalization.CultureInfo.InvariantCulture) + " "),
         .. Encoding.UTF8.GetBytes(type),
         .. Encoding.ASCII.GetBytes(" " + body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " "),
         .. body];

    private bool OpenSslVerifies(string publicPem, byte[] signedBytes, byte[] signature)
    {
        var data = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".bin");
        var sig = data + ".sig";
        File.WriteAllBytes(data, signedBytes);
        File.WriteAllBytes(sig, signature);
        var (exit, output) = Run(OpenSsl(), "dgst", "-sha256", "-verify", publicPem, "-signature", sig, data);
        Assert.True(exit != 0 || output.Contains("Verified OK", StringComparison.Ordinal), output);
        return exit == 0;
    }

    [Fact]
    public void PreAuthenticationEncoding_DsseSpecExample_MatchesSpec() =>
        // The example of the DSSE v1 protocol document.
        Assert.Equal(
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
            Encoding.UTF8.GetString(Dsse.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8)));

    [SkippableFact]
    public void Sign_OpenSslKey_OpenSslVerifiesSignatureOverRecomputedPae()
    {
        var (key, pub, der) = OpenSslKey("signing");
        using var signer = EcdsaKeySigner.Load(key);
        var statement = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[]}"u8.ToArray();

        var envelope = Dsse.Sign(Dsse.InTotoPayloadType, statement, signer);

        using var json = JsonDocument.Parse(envelope);
        var root = json.RootElement;
        Assert.Equal("application/vnd.in-toto+json", root.GetProperty("payloadType").GetString());
        var payload = Convert.FromBase64String(root.GetProperty("payload").GetString()!);
        Assert.Equal(statement, payload);
        var signature = Assert.Single(root.GetProperty("signatures").EnumerateArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(der)), signature.GetProperty("keyid").GetString());
        var sig = Convert.FromBase64String(signature.GetProperty("sig").GetString()!);
        Assert.True(OpenSslVerifies(pub, JudgePae(root.GetProperty("payloadType").GetString()!, payload), sig));
    }

    [SkippableFact]
    public void Sign_TamperedPayloadOrOtherKey_OpenSslRefuses()
    {
        var (key, pub, _) = OpenSslKey("signing");
        var (_, otherPub, _) = OpenSslKey("other");
        using var signer = EcdsaKeySigner.Load(key);
        var statement = "{\"a\":1}"u8.ToArray();
        var parsed = Dsse.Parse(Dsse.Sign(Dsse.InTotoPayloadType, statement, signer));
        var sig = Assert.Single(parsed.Signatures).Signature;

        Assert.False(OpenSslVerifies(pub, JudgePae(Dsse.InTotoPayloadType, "{\"a\":2}"u8.ToArray()), sig));
        Assert.False(OpenSslVerifies(pub, JudgePae("application/json", statement), sig));
        Assert.False(OpenSslVerifies(otherPub, JudgePae(Dsse.InTotoPayloadType, statement), sig));
    }

    [SkippableFact]
    public void Sign_TwoRuns_SignaturesDifferButPayloadIdentical()
    {
        var (key, pub, _) = OpenSslKey("signing");
        using var signer = EcdsaKeySigner.Load(key);
        var statement = "{\"same\":true}"u8.ToArray();

        var first = Dsse.Parse(Dsse.Sign(Dsse.InTotoPayloadType, statement, signer));
        var second = Dsse.Parse(Dsse.Sign(Dsse.InTotoPayloadType, statement, signer));

        Assert.Equal(first.Payload, second.Payload);
        Assert.True(OpenSslVerifies(pub, JudgePae(Dsse.InTotoPayloadType, second.Payload), first.Signatures[0].Signature));
        Assert.True(OpenSslVerifies(pub, JudgePae(Dsse.InTotoPayloadType, first.Payload), second.Signatures[0].Signature));
    }

    [Fact]
    public void Sign_Unsigned_EnvelopeBytesDependOnlyOnPayload()
    {
        var first = Dsse.Sign(Dsse.InTotoPayloadType, "{}"u8.ToArray(), signer: null);
        var second = Dsse.Sign(Dsse.InTotoPayloadType, "{}"u8.ToArray(), signer: null);

        Assert.Equal(first, second);
        Assert.Equal("{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[]}", Encoding.UTF8.GetString(first));
    }

    [SkippableFact]
    public void Load_PublicKeyOnly_Kiln4030WithoutKeyMaterial()
    {
        var (_, pub, _) = OpenSslKey("signing");

        var e = Assert.Throws<KilnException>(() => EcdsaKeySigner.Load(pub));

        Assert.Equal(DiagnosticCodes.SigningKeyUnusable, e.Diagnostics[0].Code);
        var pem = File.ReadAllText(pub);
        var base64 = pem.Split('\n')[1];
        Assert.DoesNotContain(base64, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotAKeyOrMissing_Kiln4030()
    {
        var garbage = Path.Combine(_directory, "garbage.pem");
        File.WriteAllText(garbage, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHNlY3JldCBzZWNyZXQ=\n-----END PRIVATE KEY-----\n");

        var bad = Assert.Throws<KilnException>(() => EcdsaKeySigner.Load(garbage));
        var missing = Assert.Throws<KilnException>(() => EcdsaKeySigner.Load(Path.Combine(_directory, "absent.pem")));

        Assert.Equal(DiagnosticCodes.SigningKeyUnusable, bad.Diagnostics[0].Code);
        Assert.DoesNotContain("c2VjcmV0", bad.Message, StringComparison.Ordinal);
        Assert.Equal(DiagnosticCodes.SigningKeyUnusable, missing.Diagnostics[0].Code);
    }

    [SkippableFact]
    public void Load_RsaKey_Kiln4030()
    {
        var key = Path.Combine(_directory, "rsa.pem");
        Assert.Equal(0, Run(OpenSsl(), "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key).ExitCode);

        Assert.Equal(DiagnosticCodes.SigningKeyUnusable, Assert.Throws<KilnException>(() => EcdsaKeySigner.Load(key)).Diagnostics[0].Code);
    }
}
