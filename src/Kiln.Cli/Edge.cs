using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Cli;

/// <summary>
/// The one place where exceptions become coded messages and exit codes. Inside, the engine throws typed exceptions;
/// out here every failure is a KILN line (in the canonical MSBuild form, so MSBuild and IDEs parse it), never a stack
/// trace. Diagnostics go to standard error, so that a verb's standard output is only its result
/// (<c>kiln plan a b --json | jq .</c> never sees an error line).
/// </summary>
internal static class Edge
{
    /// <summary>Success (<see cref="ExitCodes.Ok"/>).</summary>
    public const int Ok = ExitCodes.Ok;

    /// <summary>Runs a verb; any failure becomes coded lines on standard error and <see cref="ExitCodes.Failed"/>.</summary>
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (KilnException e)
        {
            foreach (var diagnostic in e.Diagnostics)
            {
                Print(diagnostic);
            }

            return ExitCodes.Failed;
        }
        catch (OciFormatException e)
        {
            Print(new KilnDiagnostic(DiagnosticCodes.InvalidBaseImage, e.Message));
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Print(new KilnDiagnostic(DiagnosticCodes.ArtifactWriteFailed, $"{e.Message} Check the path, free space and permissions."));
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // The edge is the only place allowed to catch everything; it still keeps the details for a bug report.
            Print(new KilnDiagnostic(DiagnosticCodes.InternalError, $"Kiln failed unexpectedly: {e.GetType().Name}: {e.Message} This is a bug in Kiln; please report it with the details printed to standard error."));
            Console.Error.WriteLine(e.ToString());
            return ExitCodes.InternalError;
        }
    }

    /// <summary>A diagnostic (error or warning) on standard error.</summary>
    public static void Print(KilnDiagnostic diagnostic) => Console.Error.WriteLine(diagnostic.ToCanonicalString());

    /// <summary>A progress or status line (<c>kiln: …</c>) on standard error: it is not the verb's result.</summary>
    public static void Status(string line) => Console.Error.WriteLine($"kiln: {line}");
}
