using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary><c>BaseImage.OciLayout(path, reference)</c>: an image in a local OCI image layout, read in place.</summary>
/// <param name="project">Relative layout paths are resolved against its directory.</param>
/// <param name="inputs">Receives the layout's index.json, an input of the next incremental build.</param>
internal sealed class OciLayoutBaseSource(ProjectOptions project, ISet<string> inputs) : IBaseSource
{
    public string Key(ResolvedServer server, Platform platform) => $"layout|{Spec(server).Path}|{Spec(server).Reference}|{platform}";

    public BasePlan Resolve(ResolvedServer server, Platform platform)
    {
        var spec = Spec(server);
        var path = Path.GetFullPath(Path.Combine(project.ProjectDirectory, spec.Path));
        var indexPath = Path.Combine(path, "index.json");
        if (!File.Exists(indexPath) || !File.Exists(Path.Combine(path, "oci-layout")))
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base layout '{spec.Path}' is not an OCI image layout (looked for oci-layout and index.json in '{path}'). Fix the path, or create the layout (for example: skopeo copy docker-archive:base.tar oci:{spec.Path}:base).");
        }

        inputs.Add(indexPath);
        var layout = Open(path, server, spec.Path);
        return LayoutImage.Load(layout, Find(layout, spec.Reference, server, spec.Path), LayoutImage.Name("oci", project.ProjectDirectory, path, spec.Reference), server, spec.Path, platform);
    }

    private static OciLayoutBase Spec(ResolvedServer server) => (OciLayoutBase)server.Base;

    private static OciLayout Open(string path, ResolvedServer server, string display)
    {
        try
        {
            return OciLayout.Open(path);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base layout '{display}' could not be opened: {e.Message}");
        }
    }

    private static Descriptor Find(OciLayout layout, string? reference, ResolvedServer server, string display)
    {
        Descriptor? manifest;
        try
        {
            manifest = layout.FindManifest(reference);
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base layout '{display}': {e.Message} Name the image with BaseImage.OciLayout(path, \"name:tag\").");
        }

        if (manifest is null)
        {
            var available = layout.ReadIndex().Manifests
                .Select(m => m.Annotations?.GetValueOrDefault(AnnotationKeys.RefName))
                .Where(r => r is not null);
            throw new KilnException(DiagnosticCodes.BaseReferenceNotFound, $"Spec '{server.SpecType}': base layout '{display}' has no image '{reference}'. It has: {string.Join(", ", available.DefaultIfEmpty("(none)"))}.");
        }

        return manifest;
    }
}
