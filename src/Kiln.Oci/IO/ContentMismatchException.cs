namespace Kiln.Oci.IO;

/// <summary>Content did not match the digest or size that names it. The message says what, and what it was instead.</summary>
public sealed class ContentMismatchException(Descriptor expected, string what, string problem)
    : Exception($"The content of {what} {problem}, not {expected.Digest} ({expected.Size} bytes).")
{
    /// <summary>The content expected.</summary>
    public Descriptor Expected { get; } = expected;

    /// <summary>Finds a mismatch wrapped by a transport (HttpClient wraps what a request body's stream throws).</summary>
    public static ContentMismatchException? Find(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is ContentMismatchException mismatch)
            {
                return mismatch;
            }
        }

        return null;
    }
}
