using System.Buffers.Binary;
using System.IO.Compression;

namespace GraphNet.Runtime.Data;

/// <summary>An IDX file (MNIST's format): unsigned bytes with a shape. Gzip or raw.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data);

public static class Idx
{
    /// <summary>Reads an IDX file of unsigned bytes, gzip-compressed or raw, checking its header and length.</summary>
    public static IdxArray Read(string path)
    {
        byte[] raw;
        try { raw = File.ReadAllBytes(path); }
        catch (IOException e) { throw new InvalidDataException($"cannot read IDX file '{path}': {e.Message}", e); }
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                // GZipStream stops quietly at a cut; the trailer's ISIZE (length mod 2^32) tells.
                uint isize = raw.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4)) : uint.MaxValue;
                if ((uint)ms.Length != isize)
                    throw new InvalidDataException($"decompressed {ms.Length} bytes but the gzip trailer says {isize}");
                raw = ms.ToArray();
            }
            catch (InvalidDataException e) { throw new InvalidDataException($"IDX file '{path}' is a corrupt or truncated gzip file: {e.Message}", e); }
        }
        return Parse(raw, path);
    }

    public static IdxArray Parse(byte[] raw, string path = "<memory>")
    {
        if (raw.Length < 4) throw new InvalidDataException($"IDX file '{path}' is truncated: {raw.Length} bytes, no header");
        if (raw[0] != 0 || raw[1] != 0) throw new InvalidDataException($"'{path}' is not an IDX file (magic bytes {raw[0]:x2} {raw[1]:x2}, expected 00 00)");
        if (raw[2] != 0x08) throw new InvalidDataException($"IDX file '{path}' holds type 0x{raw[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = raw[3];
        if (rank is < 1 or > 4) throw new InvalidDataException($"IDX file '{path}' claims {rank} dimensions");
        if (raw.Length < 4 + 4 * rank) throw new InvalidDataException($"IDX file '{path}' is truncated inside its header");
        var shape = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * i));
            if (shape[i] < 0) throw new InvalidDataException($"IDX file '{path}' has a negative dimension {shape[i]}");
            size *= shape[i];
        }
        int header = 4 + 4 * rank;
        if (raw.Length - header != size)
            throw new InvalidDataException($"IDX file '{path}' is {(raw.Length - header < size ? "truncated" : "too long")}: header says [{string.Join(",", shape)}] = {size} bytes of data, file has {raw.Length - header}");
        return new IdxArray(shape, raw.AsSpan(header).ToArray());
    }
}
