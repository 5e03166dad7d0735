using System.Text.Json.Serialization;
using Kiln.Engine.Building;
using Kiln.Engine.Packages;

namespace Kiln.Engine.IO;

/// <summary>
/// The serialization contracts of the engine's cache files, generated at compile time: they are read on every build,
/// and reflection-based metadata cost the engine process more start-up (JIT) than reading them. The options are the
/// serializer's defaults, which these files were always written with, so existing caches stay valid.
/// </summary>
[JsonSerializable(typeof(LayerBuilder.CacheEntry))]
[JsonSerializable(typeof(ImageBuilder.BaseLayerEntry))]
[JsonSerializable(typeof(PackageBaseBuilder.SavedLayer))]
internal sealed partial class EngineJson : JsonSerializerContext;
