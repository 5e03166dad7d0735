namespace Kiln.Engine.Attestation;

/// <summary>
/// Signs DSSE pre-authentication encodings. One method and a key id, so that a keyless signer (a Fulcio certificate
/// from an OIDC token) can come later beside the key-file signer without touching the build.
/// </summary>
public interface IAttestationSigner
{
    /// <summary>The key id written into each signature (hex SHA-256 of the public key's SubjectPublicKeyInfo).</summary>
    string KeyId { get; }

    /// <summary>Signs <paramref name="data"/>; for ECDSA the signature is DER-encoded (RFC 3279), as openssl verifies it.</summary>
    byte[] Sign(byte[] data);
}
