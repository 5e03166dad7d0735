using System.Text.Json.Nodes;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>Rendered Kubernetes YAML as JSON trees, and the kubernetes-models JSON-schema validator (npm) run over them.</summary>
internal static class KubernetesDocuments
{
    private static readonly Lock Gate = new();

    /// <summary>The YAML as a JSON tree, as Kubernetes reads it.</summary>
    public static JsonNode ToJson(string yaml) => Kiln.Tests.Shared.YamlJsonTree.ToJson(yaml);

    /// <summary>
    /// The npm packages kubernetes-models (core kinds) and @kubernetes-models/argo-rollouts (Rollout), installed once per
    /// test run under the package fixture's root. They ship each kind's JSON schema and an ajv validator.
    /// </summary>
    public static string? SchemaValidator(KilnPackage package)
    {
        var npm = Tools.Find("npm");
        var node = Tools.Find("node");
        if (npm is null || node is null)
        {
            Kiln.Tests.Shared.ToolPolicy.Unavailable("npm/node are not installed (Debian packages npm, nodejs); the Kubernetes JSON-schema check needs the npm package kubernetes-models.");
        }

        var directory = Path.Combine(package.Root, "kubernetes-models");
        lock (Gate)
        {
            if (!File.Exists(Path.Combine(directory, "validate.mjs")))
            {
                Directory.CreateDirectory(directory);
                File.WriteAllText(Path.Combine(directory, "package.json"), """{ "name": "kiln-schema-check", "private": true, "type": "module" }""");
                var install = ProcessRunner.Run(npm!, ["install", "--no-audit", "--no-fund", "--loglevel=error", "kubernetes-models@5.1.0", "@kubernetes-models/argo-rollouts@2.0.0"], directory, timeout: TimeSpan.FromMinutes(5));
                if (install.ExitCode != 0)
                {
                    throw new Xunit.Sdk.XunitException("npm install kubernetes-models failed:\n" + install.Output);
                }

                File.WriteAllText(Path.Combine(directory, "validate.mjs"), """
                    // Validates each JSON file named on the command line against its kind's schema; prints one line per file.
                    import { readFileSync } from "node:fs";
                    let failed = 0;
                    for (const file of process.argv.slice(2)) {
                      const doc = JSON.parse(readFileSync(file, "utf8"));
                      const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
                      const module = group === "argoproj.io"
                        ? `@kubernetes-models/argo-rollouts/argoproj.io/${version}/${doc.kind}`
                        : `kubernetes-models/${group ? group + "/" : ""}${version}/${doc.kind}`;
                      try {
                        const Model = (await import(module))[doc.kind];
                        new Model(doc).validate();
                        console.log(`valid ${file} (${doc.apiVersion} ${doc.kind})`);
                      } catch (e) {
                        failed++;
                        console.log(`INVALID ${file} (${doc.apiVersion} ${doc.kind}): ${e.message}`);
                      }
                    }
                    process.exit(failed ? 1 : 0);
                    """);
            }
        }

        return Path.Combine(directory, "validate.mjs");
    }

    /// <summary>Validates JSON documents; returns the validator's exit code and output.</summary>
    public static ProcessResult Validate(string validator, string workDirectory, IEnumerable<(string Name, JsonNode Document)> documents)
    {
        Directory.CreateDirectory(workDirectory);
        var files = new List<string>();
        foreach (var (name, document) in documents)
        {
            var path = Path.Combine(workDirectory, name + ".json");
            File.WriteAllText(path, document.ToJsonString());
            files.Add(path);
        }

        return ProcessRunner.Run(Tools.Find("node")!, [validator, .. files], Path.GetDirectoryName(validator), timeout: TimeSpan.FromMinutes(2));
    }
}
