using System.Security.Cryptography;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Attestation;

/// <summary>
/// ECDSA P-256 with SHA-256 from a PEM private key (PKCS#8 or SEC1), with the BCL alone. The key stays in this
/// object: no message, log line or artifact ever carries it, only its key id. Signatures are randomised (the BCL does
/// not implement RFC 6979), which is why reproducibility is proven on the signed statement, never on the envelope.
/// </summary>
public sealed class EcdsaKeySigner : IAttestationSigner, IDisposable
{
    private readonly ECDsa _key;

    private EcdsaKeySigner(ECDsa key)
    {
        _key = key;
        KeyId = KeyIdOf(key);
    }

    /// <inheritdoc/>
    public string KeyId { get; }

    /// <summary>Loads the private key from the PEM file at <paramref name="path"/>.</summary>
    /// <exception cref="KilnException">KILN4030 when the file cannot be read or is not a P-256 private key.</exception>
    public static EcdsaKeySigner Load(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.SigningKeyUnusable, $"The signing key file '{path}' cannot be read ({e.GetType().Name}). Point KilnSigningKey (or KILN_SIGNING_KEY) at a PEM file holding an ECDSA P-256 private key.");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new CryptographicException("not a P-256 key");
            }

            // A public key imports too, but cannot sign: find out now, not after the images are written.
            key.ExportParameters(true);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            // The exception text never goes out: it could quote the PEM.
            throw new KilnException(DiagnosticCodes.SigningKeyUnusable, $"The signing key file '{path}' does not hold an ECDSA P-256 private key in PEM form (PKCS#8 'PRIVATE KEY' or SEC1 'EC PRIVATE KEY'). Create one with: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out kiln-signing.pem");
        }

        return new EcdsaKeySigner(key);
    }

    /// <summary>Hex SHA-256 of the DER SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    /// <inheritdoc/>
    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>The public key as PEM, for documentation and tests.</summary>
    public string PublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();
}
