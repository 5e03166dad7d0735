using System.Collections.Immutable;
using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Deploy;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln plan OLD NEW</c>: given the release.json running now and the one to roll out, which components roll, from
/// which digest to which, in what order, and what changed in each. Exit code 0 (the plan is printed whether or not
/// anything rolls), 16 when the releases cannot be read.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var old = new Argument<string>("old") { Description = "The release.json of the build running now." };
        var @new = new Argument<string>("new") { Description = "The release.json of the build to roll out." };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON." };
        var command = new Command("plan", "Show which components a rollout from one release to another replaces, in order, and what changed in each.")
        {
            old, @new, json,
        };
        command.SetAction(result => Edge.Run(() => Plan(new PlanRequest(Path.GetFullPath(result.GetValue(old)!), Path.GetFullPath(result.GetValue(@new)!)), result.GetValue(json))));
        return command;
    }

    private static int Plan(PlanRequest request, bool json)
    {
        var plan = KilnEngine.Plan(request);
        if (json)
        {
            CliJson.Write(new PlanOutput(
                [.. plan.Components.Select(c => new PlanComponent(c.Order, c.Deployment, c.Server, c.Action, c.FromReference, c.FromDigest, c.ToReference, c.ToDigest, c.Changes))],
                [.. plan.Changing.Select(c => c.Server)]));
            return Edge.Ok;
        }

        CliOutput.Table(
            ["#", "deployment", "server", "action", "from", "to", "what changed"],
            plan.Components.Select(c => new[]
            {
                CliOutput.Number(c.Order),
                c.Deployment,
                c.Server,
                c.Action,
                Describe(c.FromReference, c.FromDigest),
                Describe(c.ToReference, c.ToDigest),
                string.Join("\n", c.Changes),
            }));
        var rolling = plan.Changing.Count();
        CliOutput.Line(rolling == 0 ? "nothing rolls" : $"{rolling} component(s) roll, in the order shown");
        return Edge.Ok;
    }

    /// <summary>name:version and its digest: on two lines of a terminal's table cell, on one (full digest) otherwise.</summary>
    private static string Describe(string? reference, string? digest) =>
        reference is null ? "-" : CliOutput.IsTerminal ? $"{reference}\n{CliOutput.Digest(digest)}" : $"{reference}@{digest}";

    /// <summary>The --json shape of <c>kiln plan</c>: every component in rollout order, and the servers that roll.</summary>
    internal sealed record PlanOutput(ImmutableArray<PlanComponent> Components, ImmutableArray<string> Rolls);

    /// <summary>One component; <paramref name="Action"/> is keep, roll, add or remove.</summary>
    internal sealed record PlanComponent(int Order, string Deployment, string Server, string Action, string? From, string? FromDigest, string? To, string? ToDigest, ImmutableArray<string> Changes);
}
