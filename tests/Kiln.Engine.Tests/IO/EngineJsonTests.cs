using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.IO;
using Kiln.Engine.Packages;
using Kiln.Oci;

namespace Kiln.Engine.Tests.IO;

/// <summary>
/// The engine's cache files are serialized through contracts generated at compile time; they must write the bytes the
/// serializer's reflection defaults wrote, so that caches written by an earlier Kiln stay valid (their seal is a hash
/// of those bytes).
/// </summary>
public sealed class EngineJsonTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-engine-json-").FullName;

    private static readonly LayerFileRecord[] Files =
    [
        new("app/", EntryKind.Directory, 0x1ED, 0, 0, 0, null, null),
        new("app/Shop.Api.dll", EntryKind.File, 0x1A4, 1654, 1654, 52_736, new string('c', 64), null),
        new("app/current", EntryKind.Symlink, 0x1FF, 0, 0, 0, null, "Shop.Api.dll"),
    ];

    [Fact]
    public void SerializeToUtf8Bytes_CacheEntries_EqualTheReflectionDefaults()
    {
        var layer = new LayerBuilder.CacheEntry("sha256:" + new string('1', 64), "sha256:" + new string('2', 64), 1234, "stamp-1", Files);
        var baseLayer = new ImageBuilder.BaseLayerEntry(null, Files);
        var saved = new PackageBaseBuilder.SavedLayer("sha256:" + new string('3', 64), "sha256:" + new string('4', 64), 99, null);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(layer, JsonSerializerOptions.Default), JsonSerializer.SerializeToUtf8Bytes(layer, EngineJson.Default.CacheEntry));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(baseLayer, JsonSerializerOptions.Default), JsonSerializer.SerializeToUtf8Bytes(baseLayer, EngineJson.Default.BaseLayerEntry));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(saved, JsonSerializerOptions.Default), JsonSerializer.SerializeToUtf8Bytes(saved, EngineJson.Default.SavedLayer));
    }

    [Fact]
    public void Read_EntrySealedWithReflectionDefaults_IsValidAndEqual()
    {
        // A cache file as the reflection-based writer left it: the seal covers exactly these bytes.
        var entry = new LayerBuilder.CacheEntry("sha256:" + new string('1', 64), "sha256:" + new string('2', 64), 1234, null, Files);
        var content = JsonSerializer.SerializeToUtf8Bytes(entry, JsonSerializerOptions.Default);
        var seal = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        var path = Path.Combine(_directory, "layer.json");
        File.WriteAllBytes(path, [.. "{\"seal\":\""u8, .. System.Text.Encoding.UTF8.GetBytes(seal), .. "\",\"entry\":"u8, .. content, .. "}"u8]);

        var state = SealedFile.Read(path, EngineJson.Default.CacheEntry, out var read);
        var again = Path.Combine(_directory, "again.json");
        SealedFile.Write(again, read!, EngineJson.Default.CacheEntry);

        Assert.Equal(SealState.Valid, state);
        Assert.Equal(entry.Files, read!.Files);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
