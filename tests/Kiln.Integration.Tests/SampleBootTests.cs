using System.Net.Http;
using System.Text.Json.Nodes;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The Shop sample's API, built the way a user builds it (the packed Kiln.Build, a self-contained linux-x64 publish on
/// a Debian bookworm package base from the mirror this machine's apt uses), booted under runc.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class SampleBootTests(KilnPackage package)
{
    [SkippableFact]
    public void ShopApi_OnBookwormPackageBase_BootsReadOnlyAsNonRootAndAnswersHealthz()
    {
        var umoci = Tools.Require("umoci", "umoci");
        var runc = Tools.Require("runc", "runc");
        var shop = ShopSample.Build(package);
        var bundle = ShopSample.Unpack(shop, umoci, "boot");

        using var instance = ApiInstance.Start(runc, bundle, readOnlyRoot: true);

        Assert.True(instance.Healthz() == "ok", $"no answer from /healthz; runc output:\n{instance.Output}");
    }

    /// <summary>
    /// The sample's linux/arm64 API image really runs: its root file system unpacked by umoci, the self-contained app
    /// started under qemu-user with the image's own loader and libraries (qemu-aarch64-static -L ROOTFS), and its
    /// health endpoint answers.
    /// </summary>
    [SkippableFact]
    public void ShopApi_Arm64ImageUnderQemu_AnswersHealthz()
    {
        var qemu = QemuArm64.Require();
        var shop = ShopSample.Build(package);
        var rootfs = qemu.UnpackRootfs(shop.LayoutDirectory, ShopSample.ApiReference(shop), Path.Combine(shop.Directory, "arm64"));
        Assert.Equal(183, ElfMachine(Path.Combine(rootfs, "app", "Shop.Api"))); // EM_AARCH64

        var port = LoopbackListener.FreePort();
        var start = new System.Diagnostics.ProcessStartInfo(qemu.Qemu)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(rootfs, "app"),
        };
        foreach (var argument in new[] { "-L", rootfs, Path.Combine(rootfs, "app", "Shop.Api"), "--urls", $"http://127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        var output = new System.Text.StringBuilder();
        using var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Emulated start-up of a .NET app takes seconds; the answer, not the time, is what is checked.
            var answer = ApiInstance.Poll($"http://127.0.0.1:{port}/healthz", TimeSpan.FromMinutes(3), () => !process.HasExited);
            Assert.True(answer == "ok", $"no answer from the arm64 API's /healthz; its output:\n{output}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit();
        }
    }

    private static int ElfMachine(string path)
    {
        using var file = File.OpenRead(path);
        var header = new byte[20];
        file.ReadExactly(header);
        return header[18] | (header[19] << 8);
    }

    /// <summary>
    /// Drift on a running instance of the sample's API: an operator's ad hoc change through the host's view of the
    /// instance's root (/proc/PID/root — the image has no shell to change it from inside) is exactly what
    /// `kiln verify` reports, with AIDE's exit code 7 (1 added + 2 removed + 4 changed).
    /// </summary>
    [SkippableFact]
    public void Verify_RunningShopApiChangedByHand_ReportsExactlyThoseThreeChanges()
    {
        var umoci = Tools.Require("umoci", "umoci");
        var runc = Tools.Require("runc", "runc");
        var shop = ShopSample.Build(package);
        var bundle = ShopSample.Unpack(shop, umoci, "drift");
        var manifest = ShopSample.ApiManifest(shop, "amd64");

        using var instance = ApiInstance.Start(runc, bundle, readOnlyRoot: false);
        Assert.True(instance.Healthz() == "ok", $"no answer from /healthz; runc output:\n{instance.Output}");
        var root = $"/proc/{instance.Pid}/root";

        var clean = KilnCli.Run(package, shop.Directory, "verify", "--manifest", manifest, "--root", root, "--json");
        Assert.True(clean.ExitCode == 0, clean.Output);

        File.WriteAllText(Path.Combine(root, "app", "appsettings.Production.json"), "{ \"Shop\": { \"Currency\": \"USD\" } }\n");
        File.WriteAllText(Path.Combine(root, "app", "hotfix.txt"), "applied by hand\n");
        File.Delete(Path.Combine(root, "app", "Shop.Api.deps.json"));
        File.WriteAllText(Path.Combine(root, "tmp", "scratch"), "the instance's own volume: not drift\n");

        var drifted = KilnCli.Run(package, shop.Directory, "verify", "--manifest", manifest, "--root", root, "--json");

        Assert.True(drifted.ExitCode == 7, drifted.Output);
        var drift = System.Text.Json.JsonDocument.Parse(drifted.Output).RootElement.GetProperty("drift").EnumerateArray()
            .Select(d => $"{d.GetProperty("path").GetString()} {d.GetProperty("kind").GetString()}")
            .ToList();
        Assert.Equal(["/app/Shop.Api.deps.json removed", "/app/appsettings.Production.json changed", "/app/hotfix.txt added"], drift);
    }

}

/// <summary>The sample's API running under runc with the host's network, on a free loopback port.</summary>
internal sealed class ApiInstance : IDisposable
{
    private readonly string _runc;
    private readonly string _id;
    private readonly System.Diagnostics.Process _process;
    private readonly System.Text.StringBuilder _output;
    private readonly int _port;

    private ApiInstance(string runc, string id, System.Diagnostics.Process process, System.Text.StringBuilder output, int port)
    {
        _runc = runc;
        _id = id;
        _process = process;
        _output = output;
        _port = port;
    }

    public string Output => _output.ToString();

    /// <summary>The instance's init process as the host sees it.</summary>
    public int Pid
    {
        get
        {
            var state = ProcessRunner.Run(_runc, ["state", _id]);
            Assert.True(state.ExitCode == 0, state.Output);
            return (int)JsonNode.Parse(state.Output)!["pid"]!;
        }
    }

    public static ApiInstance Start(string runc, string bundle, bool readOnlyRoot)
    {
        var port = LoopbackListener.FreePort();
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["process"]!["terminal"] = false;
        config["root"]!["readonly"] = readOnlyRoot;
        Assert.Equal(10001, (int)config["process"]!["user"]!["uid"]!);
        // Share the host's network namespace so that the test reaches the server on 127.0.0.1.
        var namespaces = config["linux"]!["namespaces"]!.AsArray();
        foreach (var network in namespaces.Where(n => (string?)n!["type"] == "network").ToList())
        {
            namespaces.Remove(network);
        }

        config["process"]!["env"]!.AsArray().Add($"ASPNETCORE_URLS=http://127.0.0.1:{port}");
        var args = config["process"]!["args"]!.AsArray();
        args.Clear();
        args.Add("/app/Shop.Api");
        // The spec's /tmp volume, as a platform would mount it.
        config["mounts"]!.AsArray().Add(JsonNode.Parse("""{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]}"""));
        File.WriteAllText(configPath, config.ToJsonString());

        var id = "kiln-shop-" + Guid.NewGuid().ToString("N")[..12];
        var process = ProcessRunner.Start(runc, ["run", "--bundle", bundle, id], bundle, null, out var output);
        return new ApiInstance(runc, id, process, output, port);
    }

    /// <summary>The body of GET /healthz once the server answers, or null when it never does.</summary>
    public string? Healthz() => Poll($"http://127.0.0.1:{_port}/healthz", TimeSpan.FromSeconds(30), () => !_process.HasExited);

    /// <summary>
    /// The body of GET <paramref name="url"/> once a server answers it (with 200), or null when it does not within
    /// <paramref name="patience"/> or <paramref name="alive"/> says the server is gone.
    /// </summary>
    public static string? Poll(string url, TimeSpan patience, Func<bool> alive)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < until && alive())
        {
            try
            {
                using var response = http.GetAsync(url).GetAwaiter().GetResult();
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Thread.Sleep(500);
            }
        }

        return null;
    }

    public void Dispose()
    {
        ProcessRunner.Run(_runc, ["kill", _id, "KILL"]);
        _process.WaitForExit(10_000);
        ProcessRunner.Run(_runc, ["delete", "--force", _id]);
        _process.Dispose();
    }
}

/// <summary>
/// A fixture with the Shop sample's API spec and project, built once per test run and shared by the boot and
/// package-base tests (a self-contained publish is ~70 MB; building it for every test would be slow for nothing).
/// </summary>
internal static class ShopSample
{
    private static readonly object Gate = new();
    private static FixtureProject? built;

    /// <summary>The package cache of the tests (not the user's), so that the first build really fetches from the mirror.</summary>
    public static string CacheDirectory(KilnPackage package) => Path.Combine(package.Root, "kiln-cache");

    public static FixtureProject Build(KilnPackage package)
    {
        lock (Gate)
        {
            if (built is not null)
            {
                return built;
            }

            var fixture = new FixtureProject(package, "Shop");
            var sample = Path.Combine(Repo.Root, "samples", "Shop");
            foreach (var file in new[] { "src/Shop.Api/Program.cs", "src/Shop.Api/Shop.Api.csproj", "config/appsettings.Production.json", "Specs/ShopBase.cs" })
            {
                fixture.Write(file, File.ReadAllText(Path.Combine(sample, file)));
            }

            fixture.Write("Specs/ShopApi.cs", File.ReadAllText(Path.Combine(sample, "Specs", "ShopApi.cs")));
            // The spec project must not compile the API's sources; the API restores its runtime packs from nuget.org.
            fixture.Write("Directory.Build.props", "<Project><PropertyGroup><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><DefaultItemExcludes>$(DefaultItemExcludes);src/**;config/**</DefaultItemExcludes></PropertyGroup></Project>");
            fixture.Write("nuget.config", $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="kiln" value="{package.Feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            fixture.BuildOk($"-p:KilnCacheDirectory={CacheDirectory(package)}");
            return built = fixture;
        }
    }

    /// <summary>The API image's name:version as the sample's spec declares it today, read from the build's release.json.</summary>
    public static string ApiReference(FixtureProject fixture) =>
        fixture.ReadRelease().Digests.Keys.Single(k => k.StartsWith("shop-api:", StringComparison.Ordinal));

    public static string Unpack(FixtureProject fixture, string umoci, string name)
    {
        var bundle = Path.Combine(fixture.Directory, "bundle-" + name);
        if (Directory.Exists(bundle))
        {
            Directory.Delete(bundle, recursive: true);
        }

        // The sample is built for linux/amd64 and linux/arm64: the tag names an index, and runc runs the amd64 image.
        var image = LayoutView.Of(fixture.LayoutDirectory, ApiReference(fixture), "amd64", bundle + "-layout");
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", image, bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        return bundle;
    }

    /// <summary>The Kiln manifest of the API's image for <paramref name="architecture"/>, as release.json names it.</summary>
    public static string ApiManifest(FixtureProject fixture, string architecture)
    {
        using var release = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.OutputDirectory, "release.json")));
        var api = release.RootElement.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("reference").GetString()!.StartsWith("shop-api:", StringComparison.Ordinal));
        var manifest = api.TryGetProperty("platforms", out var platforms)
            ? platforms.EnumerateArray().Single(p => p.GetProperty("platform").GetString() == $"linux/{architecture}").GetProperty("manifest").GetString()!
            : api.GetProperty("manifest").GetString()!;
        return Path.Combine(fixture.OutputDirectory, manifest);
    }
}
