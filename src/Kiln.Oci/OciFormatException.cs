namespace Kiln.Oci;

/// <summary>
/// Input that claims to be OCI (or Docker) content is malformed: a bad digest string, invalid JSON, a missing
/// required field, a missing blob, content whose digest does not match its name. The message says what is wrong
/// and where.
/// </summary>
public sealed class OciFormatException : Exception
{
    public OciFormatException(string message) : base(message) { }

    public OciFormatException(string message, Exception? innerException) : base(message, innerException) { }
}
