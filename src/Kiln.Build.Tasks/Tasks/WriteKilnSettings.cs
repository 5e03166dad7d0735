using System;
using System.IO;
using System.Text;
using Kiln.Shared;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Writes the build settings stamp (<c>obj/&lt;Configuration&gt;/kiln/settings.txt</c>, <see cref="KilnBuildSettings"/>):
/// an input of the evaluation and image build targets, so that a changed setting re-runs the engine. The file is
/// rewritten only when its bytes differ, so that an unchanged build stays up to date.
/// </summary>
public sealed class WriteKilnSettings : Task
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The stamp's path.</summary>
    [Required]
    public string File { get; set; } = "";

    /// <summary>KilnSourceDateEpoch.</summary>
    public string? Epoch { get; set; }

    /// <summary>KilnLayerCompression.</summary>
    public string? LayerCompression { get; set; }

    /// <summary>KilnArchiveFormat.</summary>
    public string? ArchiveFormat { get; set; }

    /// <summary>KilnSigningKey.</summary>
    public string? SigningKey { get; set; }

    /// <summary>KilnVerificationKey.</summary>
    public string? VerificationKey { get; set; }

    /// <summary>KilnBaseVerificationKey.</summary>
    public string? BaseVerificationKey { get; set; }

    /// <summary>KilnOutputPath.</summary>
    public string? Output { get; set; }

    /// <summary>Configuration.</summary>
    public string? Configuration { get; set; }

    /// <summary>KilnEnginePath.</summary>
    public string? Engine { get; set; }

    /// <summary>KilnVersion.</summary>
    public string? Version { get; set; }

    /// <summary>KilnRegistry.</summary>
    public string? DeployRegistry { get; set; }

    /// <summary>KilnRepositoryPrefix.</summary>
    public string? DeployRepositoryPrefix { get; set; }

    /// <summary>KilnDebianMirror.</summary>
    public string? DebianMirror { get; set; }

    /// <summary>KilnDebianSecurityMirror.</summary>
    public string? DebianSecurityMirror { get; set; }

    /// <summary>KilnDebianKeyring.</summary>
    public string? DebianKeyring { get; set; }

    /// <summary>KilnAptSources.</summary>
    public string? AptSources { get; set; }

    /// <summary>KilnUpdateLock: when true, the stamp gets a fresh nonce, so that every lock update re-runs the build.</summary>
    public bool UpdateLock { get; set; }

    /// <summary>KilnLockMode.</summary>
    public string? LockMode { get; set; }

    /// <summary>KilnInputRoots.</summary>
    public string? InputRoots { get; set; }

    /// <summary>KilnPlatforms.</summary>
    public string? Platforms { get; set; }

    /// <inheritdoc />
    public override bool Execute()
    {
        string text;
        try
        {
            text = new KilnBuildSettings(
                epoch: Epoch,
                layerCompression: LayerCompression,
                archiveFormat: ArchiveFormat,
                signingKey: SigningKey,
                verificationKey: VerificationKey,
                baseVerificationKey: BaseVerificationKey,
                output: Output,
                configuration: Configuration,
                engine: Engine,
                version: Version,
                deployRegistry: DeployRegistry,
                deployRepositoryPrefix: DeployRepositoryPrefix,
                debianMirror: DebianMirror,
                debianSecurityMirror: DebianSecurityMirror,
                debianKeyring: DebianKeyring,
                aptSources: AptSources,
                updateLock: UpdateLock ? Guid.NewGuid().ToString("D") : null,
                lockMode: LockMode,
                inputRoots: InputRoots,
                platforms: Platforms).ToText();
        }
        catch (KilnSettingsException e)
        {
            Log.LogError(null, "KILN4041", null, File, 0, 0, 0, 0,
                "Kiln cannot record its build settings: {0}. Fix the MSBuild property that sets it.", e.Message);
            return false;
        }

        var temporary = File + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            var bytes = Utf8.GetBytes(text);
            if (System.IO.File.Exists(File) && BytesEqual(System.IO.File.ReadAllBytes(File), bytes))
            {
                Log.LogMessage(MessageImportance.Low, "Kiln: build settings unchanged ({0}).", File);
                return true;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(File))!);
            // Written beside the stamp and renamed over it: a stamp is never half written.
            System.IO.File.WriteAllBytes(temporary, bytes);
            if (System.IO.File.Exists(File))
            {
                System.IO.File.Delete(File);
            }

            System.IO.File.Move(temporary, File);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            TryDelete(temporary);
            Log.LogError(null, "KILN4040", null, File, 0, 0, 0, 0,
                "Kiln cannot write its build settings stamp '{0}': {1} Make the directory writable, or set KilnIntermediatePath to a writable directory.",
                File, e.Message);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            System.IO.File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // A stray temporary file is harmless: the next write uses another name, and obj/ is disposable.
        }
    }

    private static bool BytesEqual(byte[] a, byte[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }
}
