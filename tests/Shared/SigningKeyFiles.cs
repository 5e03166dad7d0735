using System.Security.Cryptography;

namespace Kiln.Tests.Shared;

/// <summary>
/// A fresh ECDSA P-256 key pair written as Kiln reads keys (KilnSigningKey, KilnVerificationKey, --key): the private key
/// as PKCS#8 PEM, the public key as SubjectPublicKeyInfo PEM. Linked into every test project that signs.
/// </summary>
internal static class SigningKeyFiles
{
    /// <summary>Writes <c>NAME.pem</c> and <c>NAME.pub</c> into <paramref name="directory"/>; returns the private key's path.</summary>
    public static string Write(string directory, string name, out string publicKey)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = Path.Combine(directory, name + ".pem");
        File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
        publicKey = Path.Combine(directory, name + ".pub");
        File.WriteAllText(publicKey, key.ExportSubjectPublicKeyInfoPem());
        return path;
    }
}
