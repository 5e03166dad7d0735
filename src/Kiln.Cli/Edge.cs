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
                Console.Out.WriteLine(diagnostic.ToCanonicalString());
            }

            return Failed;
        }
        catch (OciFormatException e)
        {
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.InvalidBaseImage, e.Message).ToCanonicalString());
            return Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.ArtifactWriteFailed, $"{e.Message} Check the path, free space and permissions.").ToCanonicalString());
            return Failed;
        }
        catch (Exception e)
        {
            // The edge is the only place allowed to catch everything; it still keeps the details for a bug report.
            Console.Out.WriteLine(new KilnDiagnostic(DiagnosticCodes.InternalError, $"Kiln failed unexpectedly: {e.GetType().Name}: {e.Message} This is a bug in Kiln; please report it with the details printed to standard error.").ToCanonicalString());
            Console.Error.WriteLine(e.ToString());
            return Failed;
        }
    }

    public static void Print(KilnDiagnostic diagnostic) => Console.Out.WriteLine(diagnostic.ToCanonicalString());
}
