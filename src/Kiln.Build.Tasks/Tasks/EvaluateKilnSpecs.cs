using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Evaluates the specs and writes the projects they publish, as MSBuild items, to <see cref="PublishListFile"/>. The
/// targets import that file at evaluation, so that a no-op build knows them without starting the engine; when this
/// task runs, <see cref="PublishProjects"/> returns the fresh list.
/// </summary>
public sealed class EvaluateKilnSpecs : KilnEngineTask
{
    /// <summary>The .props file the engine writes the publish list into.</summary>
    [Required]
    public string PublishListFile { get; set; } = "";

    /// <summary>The projects to publish, with KilnPublishKey, KilnPublishDir and AdditionalProperties metadata.</summary>
    [Output]
    public ITaskItem[] PublishProjects { get; private set; } = [];

    /// <inheritdoc />
    protected override string Verb => "evaluate";

    /// <inheritdoc />
    protected override void AppendVerbSwitches(CommandLineBuilder builder) => builder.AppendSwitchIfNotNull("--publish-props ", PublishListFile);

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!base.Execute())
        {
            return false;
        }

        var items = new List<ITaskItem>();
        foreach (var element in XDocument.Load(PublishListFile).Descendants("_KilnPublishProject"))
        {
            var item = new TaskItem((string)element.Attribute("Include")!);
            foreach (var metadata in element.Elements())
            {
                item.SetMetadata(metadata.Name.LocalName, metadata.Value);
            }

            items.Add(item);
        }

        PublishProjects = items.ToArray();
        return !Log.HasLoggedErrors;
    }
}
