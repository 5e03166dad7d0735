using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Cli;

/// <summary>
/// The one place where exceptions become coded messages and exit codes. Inside, the engine throws typed exceptions;
/// out here every failure is a KILN line (in the canonical MSBuild form, so MSBuild and IDEs parse it), never a stack trace.
/// </summary>
internal static class Edge
{
    public const int Ok = 0;
    public const int Failed = 1;

    /// <summary>
    /// The exit code of diff and verify when they cannot give a verdict (bad input): above AIDE's drift bits (1, 2, 4)
    /// and their sum, so that a script can tell "drifted" from "could not check".
    /// </summary>
    public const int BadInput = 16;

    /// <summary>Runs a verb; any failure becomes coded lines and <paramref name="failed"/> (verbs whose exit codes carry a verdict pass their own).</summary>
    public static int Run(Func<int> action, int failed = Failed)
    {
        try
        {
            return action();
        }
        catch (KilnException e)
        {
            foreach (var diagnostic in e.Diagnostics)
            {
                Console.Out.WriteLine(diagnostic.ToCanonicalString());
            }

            return failed;
        }
        catch (OciFormatException e)
        {
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.InvalidBaseImage, e.Message).ToCanonicalString());
            return failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.ArtifactWriteFailed, $"{e.Message} Check the path, free space and permissions.").ToCanonicalString());
            return failed;
        }
        catch (Exception e)
        {
            // The edge is the only place allowed to catch everything; it still keeps the details for a bug report.
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.InternalError, $"Kiln failed unexpectedly: {e.GetType().Name}: {e.Message} This is a bug in Kiln; please report it with the details printed to standard error.").ToCanonicalString());
            Console.Error.WriteLine(e.ToString());
            return failed;
        }
    }

    public static void Print(KilnDiagnostic diagnostic) => Console.Out.WriteLine(diagnostic.ToCanonicalString());
}
