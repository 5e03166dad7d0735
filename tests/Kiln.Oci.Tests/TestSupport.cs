using System.Diagnostics;
using System.Text;

namespace Kiln.Oci.Tests;

/// <summary>A fact that needs external tools, skipped or failed by <see cref="Kiln.Tests.Shared.ToolPolicy"/>.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        Skip = Kiln.Tests.Shared.ToolPolicy.SkipReason(tools);
    }
}

internal static class Tools
{
    public static string? Find(string name) => Kiln.Tests.Shared.ToolPolicy.Find(name);

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a shell command line (bash -c) and returns stdout; fails the test on a non-zero exit.</summary>
    public static string Sh(string command, string? workingDirectory = null)
    {
        var (code, stdout, stderr) = TrySh(command, workingDirectory);
        Assert.True(code == 0, $"`{command}` exited {code}:\n{stderr}\n{stdout}");
        return stdout;
    }

    public static (int Code, string Stdout, string Stderr) TrySh(string command, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        using var process = Process.Start(psi)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderrTask.Result);
    }

    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}

/// <summary>A temp directory deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-oci-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string WriteFile(string relative, string content)
    {
        string path = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
