using System.Text.Json.Nodes;
using Xunit;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// Runs an image to its end under runc, as a platform would start it: unpacked by umoci, read-only root, no terminal;
/// the container is deleted afterwards whatever happened.
/// </summary>
internal static class RuncOnce
{
    /// <returns>runc's exit code and the program's output.</returns>
    public static ProcessResult Run(string umoci, string runc, string image, string bundle)
    {
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", image, bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["process"]!["terminal"] = false;
        config["root"]!["readonly"] = true;
        File.WriteAllText(configPath, config.ToJsonString());

        var id = "kiln-it-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            return ProcessRunner.Run(runc, ["run", "--bundle", bundle, id], timeout: TimeSpan.FromMinutes(1));
        }
        finally
        {
            ProcessRunner.Run(runc, ["delete", "--force", id]);
        }
    }
}
