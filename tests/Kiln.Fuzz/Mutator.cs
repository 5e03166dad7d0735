using System.Text;

namespace Kiln.Fuzz;

/// <summary>What a target's inputs look like, so that the mutator also makes the mutations that reach past the
/// first check (a tar header with a repaired checksum, a JSON number, a deep nesting).</summary>
[Flags]
internal enum InputShape
{
    Binary = 0,
    Text = 1,
    Json = 2,
    Tar = 4,
}

/// <summary>
/// Derives one input from the seeds: a few stacked mutations (bit flips, byte inserts and deletes, truncation,
/// splicing, interesting integers in text and in tar header fields, tokens, deep JSON nesting). Everything comes
/// from the <see cref="Random"/> it is given, so (seed, target, iteration) always gives the same input.
/// </summary>
internal sealed class Mutator(Random random, IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> tokens, InputShape shape)
{
    private static readonly string[] InterestingNumbers =
    [
        "0", "-1", "1", "-0", "00", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483649",
        "4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "99999999999999999999999999", "1e308", "1e400", "-1e400", "1.5", "0x10", "NaN",
        "077777777777", "777777777777", "8589934591", "9999999999",
    ];

    private static readonly long[] InterestingIntegers =
    [
        0, -1, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue,
        long.MaxValue, long.MinValue, 0x1_0000_0000, 512, 511, 513,
    ];

    private static readonly byte[] InterestingBytes = [0, 0xFF, 0x7F, 0x80, (byte)'0', (byte)'9', (byte)' ', (byte)'/', (byte)'"', (byte)'{', (byte)'[', (byte)'\n', (byte)':', (byte)'\\', (byte)'.'];

    // Tar header fields that hold numbers: offset, length.
    private static readonly (int Offset, int Length)[] TarNumericFields =
        [(100, 8), (108, 8), (116, 8), (124, 12), (136, 12), (148, 8), (329, 8), (337, 8)];

    public byte[] Next()
    {
        var data = new List<byte>(seeds[random.Next(seeds.Count)]);
        int mutations = 1 + random.Next(random.Next(8) == 0 ? 16 : 4);
        for (int i = 0; i < mutations; i++)
        {
            Mutate(data);
        }

        var result = data.ToArray();
        if (shape.HasFlag(InputShape.Tar) && random.Next(4) != 0)
        {
            // Most tar mutations should get past the header checksum, or they only ever test that one check.
            TarChecksums.Repair(result);
        }

        return result;
    }

    private void Mutate(List<byte> data)
    {
        int choice = random.Next(shape.HasFlag(InputShape.Tar) ? 15 : 13);
        switch (choice)
        {
            case 0 when data.Count > 0:
                data[Position(data)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Position(data)] = (byte)random.Next(256);
                break;
            case 2 when data.Count > 0:
                data[Position(data)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 3:
                data.InsertRange(Position(data, end: true), RandomBytes(1 + random.Next(16)));
                break;
            case 4 when data.Count > 0:
                {
                    int at = Position(data);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(random.Next(4) == 0 ? 1024 : 64)));
                    break;
                }

            case 5 when data.Count > 0:
                Truncate(data);
                break;
            case 6:
                Splice(data);
                break;
            case 7 when data.Count > 0:
                {
                    int at = Position(data);
                    int length = Math.Min(data.Count - at, 1 + random.Next(256));
                    var chunk = data.GetRange(at, length);
                    int copies = 1 + random.Next(random.Next(8) == 0 ? 64 : 3);
                    for (int c = 0; c < copies; c++)
                    {
                        data.InsertRange(at, chunk);
                    }

                    break;
                }

            case 8:
                ReplaceNumber(data);
                break;
            case 9 when data.Count >= 8:
                WriteInteger(data, Position(data), InterestingIntegers[random.Next(InterestingIntegers.Length)]);
                break;
            case 10 when tokens.Count > 0:
                {
                    var token = tokens[random.Next(tokens.Count)];
                    int at = Position(data, end: true);
                    if (random.Next(2) == 0 && at + token.Length <= data.Count)
                    {
                        for (int t = 0; t < token.Length; t++)
                        {
                            data[at + t] = token[t];
                        }
                    }
                    else
                    {
                        data.InsertRange(at, token);
                    }

                    break;
                }

            case 11 when shape.HasFlag(InputShape.Json):
                Nest(data);
                break;
            case 12 when shape.HasFlag(InputShape.Text) || shape.HasFlag(InputShape.Json):
                InsertLine(data);
                break;
            case 13 or 14:
                MutateTarField(data);
                break;
            default:
                if (data.Count > 0)
                {
                    data[Position(data)] ^= (byte)(1 << random.Next(8));
                }

                break;
        }
    }

    private int Position(List<byte> data, bool end = false) => random.Next(data.Count + (end ? 1 : 0));

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private void Truncate(List<byte> data)
    {
        // Cut at a random point, biased to the end (where a short read shows) and to block boundaries.
        int at = random.Next(3) switch
        {
            0 => random.Next(data.Count),
            1 => Math.Max(0, data.Count - 1 - random.Next(Math.Min(data.Count, 1100))),
            _ => Math.Min(data.Count, 512 * random.Next(data.Count / 512 + 1) + random.Next(2)),
        };
        data.RemoveRange(at, data.Count - at);
    }

    private void Splice(List<byte> data)
    {
        var other = seeds[random.Next(seeds.Count)];
        if (other.Length == 0)
        {
            return;
        }

        int from = random.Next(other.Length);
        int length = Math.Min(other.Length - from, 1 + random.Next(Math.Max(1, other.Length / 2)));
        int at = Position(data, end: true);
        if (random.Next(2) == 0)
        {
            // Crossover: this input's head, the other's tail.
            data.RemoveRange(at, data.Count - at);
            data.AddRange(other.AsSpan(from).ToArray());
        }
        else
        {
            data.InsertRange(at, other.AsSpan(from, length).ToArray());
        }
    }

    private void ReplaceNumber(List<byte> data)
    {
        if (data.Count == 0)
        {
            return;
        }

        // Find a run of digits at or after a random position and replace it with an interesting number.
        int start = Position(data);
        while (start < data.Count && !char.IsAsciiDigit((char)data[start]))
        {
            start++;
        }

        if (start == data.Count)
        {
            return;
        }

        int end = start;
        while (end < data.Count && (char.IsAsciiDigit((char)data[end]) || data[end] is (byte)'.' or (byte)'e' or (byte)'-'))
        {
            end++;
        }

        var number = Encoding.ASCII.GetBytes(InterestingNumbers[random.Next(InterestingNumbers.Length)]);
        data.RemoveRange(start, end - start);
        data.InsertRange(start, number);
    }

    private void WriteInteger(List<byte> data, int at, long value)
    {
        int width = random.Next(3) switch { 0 => 2, 1 => 4, _ => 8 };
        bool bigEndian = random.Next(2) == 0;
        for (int i = 0; i < width && at + i < data.Count; i++)
        {
            int shift = 8 * (bigEndian ? width - 1 - i : i);
            data[at + i] = (byte)(value >> shift);
        }
    }

    private void Nest(List<byte> data)
    {
        int depth = random.Next(4) switch { 0 => 65, 1 => 200, 2 => 5000, _ => 100_000 };
        var open = random.Next(2) == 0 ? "["u8.ToArray() : "{\"a\":"u8.ToArray();
        int at = Position(data, end: true);
        var nested = new List<byte>(depth * open.Length);
        for (int i = 0; i < depth; i++)
        {
            nested.AddRange(open);
        }

        data.InsertRange(at, nested);
    }

    private void InsertLine(List<byte> data)
    {
        // A line that is long, empty, a bare continuation, or a header with an interesting number.
        string line = random.Next(5) switch
        {
            0 => "\n",
            1 => " \n",
            2 => new string('A', 1 + random.Next(70_000)) + "\n",
            3 => $"Size: {InterestingNumbers[random.Next(InterestingNumbers.Length)]}\n",
            _ => ":\n",
        };
        int at = Position(data, end: true);
        data.InsertRange(at, Encoding.ASCII.GetBytes(line));
    }

    private void MutateTarField(List<byte> data)
    {
        var headers = TarChecksums.HeaderOffsets(data);
        if (headers.Count == 0)
        {
            return;
        }

        int header = headers[random.Next(headers.Count)];
        var (offset, length) = TarNumericFields[random.Next(TarNumericFields.Length)];
        if (header + offset + length > data.Count)
        {
            return;
        }

        byte[] field = new byte[length];
        long value = InterestingIntegers[random.Next(InterestingIntegers.Length)];
        switch (random.Next(3))
        {
            case 0:
                // Octal, as ustar writes it (possibly too wide for the field: then it is cut).
                var octal = Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(length - 1, '0') + "\0");
                octal.AsSpan(0, Math.Min(length, octal.Length)).CopyTo(field);
                break;
            case 1:
                // GNU base-256: high bit set in the first byte, big-endian binary after it.
                field[0] = value < 0 ? (byte)0xFF : (byte)0x80;
                for (int i = 0; i < Math.Min(8, length - 1); i++)
                {
                    field[length - 1 - i] = (byte)(value >> (8 * i));
                }

                break;
            default:
                var text = Encoding.ASCII.GetBytes(InterestingNumbers[random.Next(InterestingNumbers.Length)]);
                text.AsSpan(0, Math.Min(length, text.Length)).CopyTo(field);
                break;
        }

        for (int i = 0; i < length; i++)
        {
            data[header + offset + i] = field[i];
        }
    }
}

/// <summary>Finds ustar headers in a byte sequence (by their magic, at any offset: a tar inside an ar or an archive
/// is found too) and writes a correct header checksum.</summary>
internal static class TarChecksums
{
    public static List<int> HeaderOffsets(IReadOnlyList<byte> data)
    {
        var result = new List<int>();
        for (int magic = 257; magic + 5 <= data.Count; magic++)
        {
            if (data[magic] == 'u' && data[magic + 1] == 's' && data[magic + 2] == 't' && data[magic + 3] == 'a' && data[magic + 4] == 'r')
            {
                result.Add(magic - 257);
            }
        }

        return result;
    }

    public static void Repair(byte[] data)
    {
        foreach (int header in HeaderOffsets(data))
        {
            if (header + 512 > data.Length)
            {
                continue;
            }

            long sum = 0;
            for (int i = 0; i < 512; i++)
            {
                sum += i is >= 148 and < 156 ? (byte)' ' : data[header + i];
            }

            var text = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
            text.AsSpan(0, 8).CopyTo(data.AsSpan(header + 148, 8));
        }
    }
}
