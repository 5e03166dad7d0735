using Kiln.Engine.Diagnostics;

namespace Kiln.Cli;

/// <summary>
/// Every exit code of every verb, in one table (docs/cli.md prints the same table). Verdicts (what a check found) are
/// small numbers that a verb may share with another verb's verdicts; failures (the verb could not give a verdict or do
/// its work) have codes no verdict ever uses, so that <c>kiln verify … || alert</c> can tell drift from a broken check.
/// The failure codes follow sysexits.h where it has a meaning for them (64 usage, 70 internal error).
/// </summary>
internal static class ExitCodes
{
    /// <summary>Success; for the checking verbs: nothing differs, no drift, sound layout, nothing outdated, verified.</summary>
    public const int Ok = 0;

    /// <summary><c>kiln diff</c>: the two versions differ.</summary>
    public const int DiffDiffers = 1;

    /// <summary><c>kiln verify</c>: files were added to the instance (a bit: added, removed and changed combine, 1–7).</summary>
    public const int DriftAdded = 1;

    /// <summary><c>kiln verify</c>: files of the image were removed from the instance.</summary>
    public const int DriftRemoved = 2;

    /// <summary><c>kiln verify</c>: files of the image were changed on the instance.</summary>
    public const int DriftChanged = 4;

    /// <summary><c>kiln fsck</c>: a referenced blob is missing, of the wrong size or of the wrong digest (KILN3042).</summary>
    public const int LayoutDamaged = 1;

    /// <summary><c>kiln outdated</c>: a locked package has a newer version in its suites.</summary>
    public const int OutdatedFound = 8;

    /// <summary>
    /// Any coded failure (KILNnnnn on standard error): bad or unreadable input, I/O failure, registry unreachable, a
    /// build that failed. For the checking verbs this is "could not check". Above every drift bit combination (1–7)
    /// and outdated's 8, below verify-image's verdicts.
    /// </summary>
    public const int Failed = 16;

    /// <summary><c>kiln verify-image</c>: the image has no provenance attestation (KILN2170).</summary>
    public const int AttestationMissing = 20;

    /// <summary><c>kiln verify-image</c>: bad signature or wrong key (KILN2171).</summary>
    public const int AttestationSignatureInvalid = 21;

    /// <summary><c>kiln verify-image</c>: the provenance attests another image (KILN2172).</summary>
    public const int AttestationSubjectMismatch = 22;

    /// <summary><c>kiln verify-image</c>: not Kiln's builder (KILN2173).</summary>
    public const int AttestationBuilderMismatch = 23;

    /// <summary><c>kiln verify-image</c>: a dependency disagrees with the lock (KILN2174).</summary>
    public const int AttestationDependencyMismatch = 24;

    /// <summary><c>kiln verify-image</c>: malformed or altered attestation (KILN2175).</summary>
    public const int AttestationMalformed = 25;

    /// <summary><c>kiln verify-image</c>: the image does not match its digest (KILN2176).</summary>
    public const int ImageTampered = 26;

    /// <summary>The command line is wrong: unknown verb or option, missing argument (EX_USAGE). Nothing was done.</summary>
    public const int Usage = 64;

    /// <summary>Kiln failed unexpectedly (KILN3004, a bug in Kiln; EX_SOFTWARE).</summary>
    public const int InternalError = 70;

    /// <summary>verify-image's verdicts, by the diagnostic code that reports each.</summary>
    public static readonly IReadOnlyDictionary<string, int> VerifyImageVerdicts = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [DiagnosticCodes.AttestationMissing] = AttestationMissing,
        [DiagnosticCodes.AttestationSignatureInvalid] = AttestationSignatureInvalid,
        [DiagnosticCodes.AttestationSubjectMismatch] = AttestationSubjectMismatch,
        [DiagnosticCodes.AttestationBuilderMismatch] = AttestationBuilderMismatch,
        [DiagnosticCodes.AttestationDependencyMismatch] = AttestationDependencyMismatch,
        [DiagnosticCodes.AttestationMalformed] = AttestationMalformed,
        [DiagnosticCodes.ImageTampered] = ImageTampered,
    };
}
