using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Deploy;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln plan OLD NEW</c>: given the release.json running now and the one to roll out, which components roll, from
/// which digest to which, in what order, and what changed in each. Exit code 0 (the plan is printed whether or not
/// anything rolls), 16 for bad input.
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
        command.SetAction(result => Edge.Run(() => Plan(new PlanRequest(Path.GetFullPath(result.GetValue(old)!), Path.GetFullPath(result.GetValue(@new)!)), result.GetValue(json)), Edge.BadInput));
        return command;
    }

    private static int Plan(PlanRequest request, bool json)
    {
        var plan = KilnEngine.Plan(request);
        if (json)
        {
            CliJson.Write(new
            {
                components = plan.Components.Select(c => new
                {
                    order = c.Order,
                    deployment = c.Deployment,
                    server = c.Server,
                    action = c.Action,
                    from = c.FromReference,
                    fromDigest = c.FromDigest,
                    to = c.ToReference,
                    toDigest = c.ToDigest,
                    changes = c.Changes,
                }),
                rolls = plan.Changing.Select(c => c.Server),
            });
            return Edge.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "deployment", "server", "action", "from", "to", "what changed");
        foreach (var c in plan.Components)
        {
            var action = c.Action switch { "keep" => "[grey]keep[/]", "roll" => "[yellow]roll[/]", "add" => "[green]add[/]", _ => "[red]remove[/]" };
            table.AddRow(
                c.Order.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(c.Deployment),
                Markup.Escape(c.Server),
                action,
                Markup.Escape(Describe(c.FromReference, c.FromDigest)),
                Markup.Escape(Describe(c.ToReference, c.ToDigest)),
                Markup.Escape(c.Changes.IsEmpty ? "" : string.Join("\n", c.Changes)));
        }

        AnsiConsole.Write(table);
        var rolling = plan.Changing.Count();
        AnsiConsole.MarkupLine(rolling == 0 ? "[green]nothing rolls[/]" : $"{rolling} component(s) roll, in the order shown");
        return Edge.Ok;
    }

    private static string Describe(string? reference, string? digest) =>
        reference is null ? "-" : $"{reference}\n{(digest is { Length: > 19 } ? digest[..19] + "…" : digest)}";
}
