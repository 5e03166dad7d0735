using System.Text;
using System.Text.Json;
using Kiln.Oci;

namespace Kiln.Engine.Attestation;

/// <summary>One DSSE signature: the key id and the signature bytes.</summary>
/// <param name="KeyId">The signer's key id (hex SHA-256 of the public key's SubjectPublicKeyInfo).</param>
/// <param name="Signature">The signature (for ECDSA, DER-encoded as openssl and cosign write it).</param>
public sealed record DsseSignature(string KeyId, byte[] Signature);

/// <summary>
/// Dead Simple Signing Envelope v1 (https://github.com/secure-systems-lab/dsse/blob/v1.0.2/envelope.md): the payload
/// and its type, and signatures over the pre-authentication encoding, never over the payload alone.
/// </summary>
public static class Dsse
{
    /// <summary>The media type of an envelope (as cosign and the in-toto attestation spec use it).</summary>
    public const string EnvelopeMediaType = "application/vnd.dsse.envelope.v1+json";

    /// <summary>The payload type of an in-toto statement.</summary>
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>
    /// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII decimal of the byte counts.
    /// </summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        var result = new byte[head.Length + type.Length + middle.Length + payload.Length];
        head.CopyTo(result, 0);
        type.CopyTo(result, head.Length);
        middle.CopyTo(result, head.Length + type.Length);
        payload.CopyTo(result.AsSpan(head.Length + type.Length + middle.Length));
        return result;
    }

    /// <summary>
    /// The envelope as canonical JSON: <c>payloadType</c>, <c>payload</c> (standard base64), <c>signatures</c>
    /// (<c>keyid</c>, <c>sig</c>). Without signatures the envelope is still well-formed, and its bytes depend only on
    /// the payload, so an unsigned build stays byte-for-byte reproducible.
    /// </summary>
    public static byte[] Envelope(string payloadType, ReadOnlySpan<byte> payload, IReadOnlyList<DsseSignature> signatures)
    {
        var encoded = Convert.ToBase64String(payload);
        return CanonicalJson.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("payloadType", payloadType);
            w.WriteString("payload", encoded);
            w.WriteStartArray("signatures");
            foreach (var s in signatures)
            {
                w.WriteStartObject();
                w.WriteString("keyid", s.KeyId);
                w.WriteString("sig", Convert.ToBase64String(s.Signature));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Signs <paramref name="payload"/> with <paramref name="signer"/> (if any) and returns the envelope.</summary>
    public static byte[] Sign(string payloadType, byte[] payload, IAttestationSigner? signer) =>
        Envelope(payloadType, payload, signer is null ? [] : [new DsseSignature(signer.KeyId, signer.Sign(PreAuthenticationEncoding(payloadType, payload)))]);

    /// <summary>A parsed envelope.</summary>
    public sealed record ParsedEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures);

    /// <summary>Reads an envelope.</summary>
    /// <exception cref="AttestationFormatException">Not a DSSE envelope.</exception>
    public static ParsedEnvelope Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var type = root.GetProperty("payloadType").GetString() ?? throw new AttestationFormatException("payloadType is null.");
            var payload = Convert.FromBase64String(root.GetProperty("payload").GetString() ?? "");
            var signatures = new List<DsseSignature>();
            foreach (var s in root.GetProperty("signatures").EnumerateArray())
            {
                var keyId = s.TryGetProperty("keyid", out var k) ? k.GetString() ?? "" : "";
                signatures.Add(new DsseSignature(keyId, Convert.FromBase64String(s.GetProperty("sig").GetString() ?? "")));
            }

            return new ParsedEnvelope(type, payload, signatures);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new AttestationFormatException($"not a DSSE envelope: {e.Message}", e);
        }
    }
}

/// <summary>An attestation (envelope, statement) is malformed.</summary>
public sealed class AttestationFormatException : Exception
{
    public AttestationFormatException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
