using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Planning.Bases;

/// <summary>
/// <c>BaseImage.Archive(path, reference)</c>: an OCI or docker archive, imported into a staging layout under the
/// intermediate directory and read from there.
/// </summary>
/// <param name="project">Relative archive paths are resolved against its directory; the staging layout is under its intermediate directory.</param>
/// <param name="inputs">Receives the archive, an input of the next incremental build.</param>
internal sealed class ArchiveBaseSource(ProjectOptions project, ISet<string> inputs) : IBaseSource
{
    public string Key(ResolvedServer server, Platform platform) => $"archive|{Spec(server).Path}|{Spec(server).Reference}|{platform}";

    public BasePlan Resolve(ResolvedServer server, Platform platform)
    {
        var spec = Spec(server);
        var path = Path.GetFullPath(Path.Combine(project.ProjectDirectory, spec.Path));
        if (!File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.BaseNotFound, $"Spec '{server.SpecType}': base archive '{spec.Path}' does not exist (looked for '{path}'). Fix the path or create the archive (docker save, skopeo copy … oci-archive:…).");
        }

        // Opening a FIFO would wait for a writer forever: the type is checked first, without opening it.
        if (InputFileTypes.Of(RealPath.TryResolve(path, out _) ?? path) is var type and not InputFileType.Regular)
        {
            throw new KilnException(DiagnosticCodes.InputNotRegularFile, $"Spec '{server.SpecType}': base archive '{spec.Path}' is {InputFileTypes.Describe(type)} ('{path}'), not a regular file. Point it at an archive file (docker save, skopeo copy … oci-archive:…).");
        }

        inputs.Add(path);
        var staging = OciLayout.OpenOrCreate(Path.Combine(project.IntermediateDirectory, "bases"));
        Descriptor manifest;
        try
        {
            ArchiveReader.ImportInto(path, staging, spec.Reference, platform, out manifest);
        }
        catch (Exception e) when (e is OciFormatException or InvalidDataException or IOException)
        {
            throw new KilnException(DiagnosticCodes.InvalidBaseImage, $"Spec '{server.SpecType}': base archive '{spec.Path}' could not be read: {e.Message}");
        }

        return LayoutImage.Load(staging, manifest, LayoutImage.Name("archive", project.ProjectDirectory, path, spec.Reference), server, spec.Path, platform);
    }

    private static ArchiveBase Spec(ResolvedServer server) => (ArchiveBase)server.Base;
}
