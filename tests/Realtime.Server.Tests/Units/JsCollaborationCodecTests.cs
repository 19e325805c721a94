using System.IO.Compression;
using System.Text;
using Realtime.Server.Internal.Protocols.JsCollaboration;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// The compatibility endpoint's codec on its own (the endpoint itself is not built yet): Socket.IO v5 packet headers, the
/// original framework's <c>m</c> event, and its compression rule, with a bounded decompression.
/// </summary>
public class JsCollaborationCodecTests
{
    [Theory]
    [InlineData("0", 0, 0, "/", -1, "")]
    [InlineData("0{\"token\":\"t\"}", 0, 0, "/", -1, "{\"token\":\"t\"}")]
    [InlineData("1", 1, 0, "/", -1, "")]
    [InlineData("2[\"m\",1]", 2, 0, "/", -1, "[\"m\",1]")]
    [InlineData("213[\"m\",1]", 2, 0, "/", 13, "[\"m\",1]")]
    [InlineData("2/admin,7[\"m\"]", 2, 0, "/admin", 7, "[\"m\"]")]
    [InlineData("4{\"message\":\"no\"}", 4, 0, "/", -1, "{\"message\":\"no\"}")]
    [InlineData("51-[\"m\",{\"_placeholder\":true,\"num\":0}]", 5, 1, "/", -1, "[\"m\",{\"_placeholder\":true,\"num\":0}]")]
    [InlineData("3/chat,5[]", 3, 0, "/chat", 5, "[]")]
    public void Packet_headers_are_read_as_the_protocol_defines_them(string text, int type, int attachments, string nameSpace, long ackId, string payload)
    {
        Assert.True(SocketIoPacket.TryParse(Encoding.UTF8.GetBytes(text), out SocketIoPacket packet, out string? problem), problem);
        Assert.Equal((SocketIoPacketType)type, packet.Type);
        Assert.Equal(attachments, packet.Attachments);
        Assert.Equal(nameSpace, Encoding.UTF8.GetString(packet.Namespace));
        Assert.Equal(ackId, packet.AckId);
        Assert.Equal(payload, Encoding.UTF8.GetString(packet.Payload));
    }

    [Theory]
    [InlineData("")]
    [InlineData("7")]
    [InlineData("x[]")]
    [InlineData("5[\"m\"]")] // a binary event without its attachment count
    [InlineData("5x-[\"m\"]")]
    [InlineData("517-[\"m\"]")] // more attachments than accepted
    [InlineData("299999999999[\"m\"]")] // an ack id out of range
    public void Malformed_packet_headers_are_refused_with_a_reason(string text)
    {
        Assert.False(SocketIoPacket.TryParse(Encoding.UTF8.GetBytes(text), out _, out string? problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void An_m_event_gives_its_type_and_its_data_as_the_exact_json_text()
    {
        byte[] payload = "[\"m\",[\"my-presence\",{\"userId\":\"user1\",\"active\":true},false]]"u8.ToArray();
        Assert.True(CollaborationEvents.TryRead(payload, 1024, out CollaborationEventKind kind, out string? type, out ReadOnlyMemory<byte> data, out string? problem), problem);
        Assert.Equal(CollaborationEventKind.Message, kind);
        Assert.Equal("my-presence", type);
        Assert.Equal("{\"userId\":\"user1\",\"active\":true}", Encoding.UTF8.GetString(data.Span));

        Assert.True(CollaborationEvents.TryRead("[\"m\",[null,[1,2],false]]"u8, 1024, out _, out string? untyped, out data, out _));
        Assert.Null(untyped);
        Assert.Equal("[1,2]", Encoding.UTF8.GetString(data.Span));

        Assert.True(CollaborationEvents.TryRead("[\"licence\",{\"ok\":true}]"u8, 1024, out kind, out _, out _, out _));
        Assert.Equal(CollaborationEventKind.Other, kind);
    }

    [Theory]
    [InlineData("{\"m\":1}")]
    [InlineData("[1]")]
    [InlineData("[\"m\"]")]
    [InlineData("[\"m\",[\"t\",1]]")] // no compressed flag
    [InlineData("[\"m\",[\"t\",1,\"no\"]]")]
    [InlineData("[\"m\",[7,1,false]]")] // a type that is neither a string nor null
    [InlineData("[\"m\",[\"t\",1,false],2]")] // a second argument
    [InlineData("[\"m\",[\"t\",1,false,3]]")]
    [InlineData("[\"m\",[\"t\",{\"a\":},false]]")] // not JSON
    [InlineData("[\"m\",[\"t\",1,true]]")] // compressed data that is not a string
    [InlineData("[\"m\",[\"t\",\"***\",true]]")] // not base64
    [InlineData("[\"m\",[\"t\",\"aGVsbG8=\",true]]")] // base64, but not gzip
    public void A_malformed_m_event_is_refused_with_a_reason(string payload)
    {
        Assert.False(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes(payload), 1024, out _, out _, out _, out string? problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void Data_of_127_bytes_is_sent_as_it_is_and_of_128_bytes_compressed_when_that_is_shorter()
    {
        string below = Json(127);
        string at = Json(128);
        Assert.Equal(127, Encoding.UTF8.GetByteCount(below));
        Assert.Equal(128, Encoding.UTF8.GetByteCount(at));

        string sent = Encoding.UTF8.GetString(CollaborationEvents.EncodeMessage("doc", Encoding.UTF8.GetBytes(below)));
        Assert.Equal($"42[\"m\",[\"doc\",{below},false]]", sent);

        sent = Encoding.UTF8.GetString(CollaborationEvents.EncodeMessage("doc", Encoding.UTF8.GetBytes(at)));
        Assert.StartsWith("42[\"m\",[\"doc\",\"", sent, StringComparison.Ordinal);
        Assert.EndsWith("\",true]]", sent, StringComparison.Ordinal);
        string base64 = sent["42[\"m\",[\"doc\",\"".Length..^"\",true]]".Length];
        Assert.Equal(at, Gunzip(base64)); // what the original client does with it: base64, then gunzip, then JSON

        // And it reads back to the same JSON text.
        Assert.True(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes(sent[2..]), 1024, out _, out _, out ReadOnlyMemory<byte> data, out string? problem), problem);
        Assert.Equal(at, Encoding.UTF8.GetString(data.Span));
    }

    [Fact]
    public void Data_that_gzip_does_not_shorten_is_sent_as_it_is()
    {
        // 150 bytes of random characters from 90: the gzip header, trailer and code tables outweigh what entropy coding saves.
        var random = new Random(16);
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_+*/=()[]{}<>@#$%&|~^";
        string noise = "\"" + new string([.. Enumerable.Range(0, 148).Select(_ => Alphabet[random.Next(Alphabet.Length)])]) + "\"";
        Assert.True(SocketIoTestClient.Gzip(Encoding.UTF8.GetBytes(noise)).Length >= noise.Length);
        Assert.False(CollaborationCompression.TryCompress(Encoding.UTF8.GetBytes(noise), out _));
        string sent = Encoding.UTF8.GetString(CollaborationEvents.EncodeMessage(null, Encoding.UTF8.GetBytes(noise)));
        Assert.Equal($"42[\"m\",[null,{noise},false]]", sent);
    }

    [Fact]
    public void Data_is_compressed_when_its_gzip_has_fewer_bytes_than_the_json_even_where_the_base64_text_is_longer()
    {
        // 153 bytes of JSON whose gzip is 151 bytes (204 characters of base64): the original sends it compressed.
        byte[] json = Encoding.UTF8.GetBytes(GzipShorterBase64Longer);
        Assert.True(CollaborationCompression.TryCompress(json, out byte[] base64));
        Assert.True(base64.Length >= json.Length);
        Assert.Equal(151, Convert.FromBase64String(Encoding.ASCII.GetString(base64)).Length);
        Assert.Equal(GzipShorterBase64Longer, Gunzip(Encoding.ASCII.GetString(base64)));

        string sent = Encoding.UTF8.GetString(CollaborationEvents.EncodeMessage("doc", json));
        Assert.Equal($"42[\"m\",[\"doc\",\"{Encoding.ASCII.GetString(base64)}\",true]]", sent);
    }

    /// <summary>
    /// JSON texts whose gzip is within a byte or two of their own length, with the byte count of their gzip from Node.js's
    /// <c>zlib.gzipSync</c> at its defaults (zlib's level 6), recorded once: the compressed flag is the original's choice, and
    /// a compressed message's gzip is exactly as long as the original's.
    /// </summary>
    [Theory]
    [InlineData(GzipShorterBase64Longer, 151)]
    [InlineData(GzipOneByteShorter, 262)]
    [InlineData(GzipAsLong, 254)]
    [InlineData(GzipOneByteLonger, 270)]
    public void The_compressed_flag_is_the_one_nodes_zlib_gives_at_its_default_level(string text, int nodeGzipBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(text);
        bool compressed = CollaborationCompression.TryCompress(json, out byte[] base64);
        Assert.Equal(nodeGzipBytes < json.Length, compressed);
        if (compressed)
        {
            Assert.Equal(nodeGzipBytes, Convert.FromBase64String(Encoding.ASCII.GetString(base64)).Length);
        }
    }

    // Recorded with Node.js 20.20 (zlib 1.3.1): Buffer.byteLength(json) and zlib.gzipSync(json).length.
    private const string GzipShorterBase64Longer = """
        {"t":"userId brown brown the active the more then then cursor brown selection quick=KHs.u3-8J3|TU@O|N-sHNu5v?(yq6`{,g<j 2v&M5;rku|3r#w}tj22ynOW8,oyI5eA"}
        """;

    private const string GzipOneByteShorter = """
        {"t":"the fox fox over over OzgXcTNF#gY+)RHY#dsE2yfas2iorzm#vI3ju8P0AlH*9TD13E>&e#+Yb(=jK<w1^I6WE^dWp=;L9e5OB+(l#&.Q}v-OfcgWz~;pqVV=#Dio 4I7?^?Z1Y E[!(][n0bNcy5LWbQFG:$ j$Sh=S2l+74iw/c^f3$|5cThEfwDCrt-:C]{,vjP[.rWO@$lt,k.XV/06(/6:Q]/lh+hzoT/0^CG!cwJxs]Z bEy8P~E"}
        """;

    private const string GzipAsLong = """
        {"t":"quick over dog quick brown brown fox fox the 2eih|Oe]9s4Jpsuh0s)iRIam(voYzS^0cFCd2G39jg&J9]FNo8dKV[N@Z(o_6ly+bh~-m_b,w=<Q&,,w<{*|=y5*Z3$kc7?#6~qWMx.uX!#QOpgR(i|+tPms%xA?{cLf:gO](5d?S5>A5A91vT2xOZ>1!8zKbMRINBF?s&/Y2O6W$MhUE:|,utTk)kPSV;/h]L&Ojj$@Q"}
        """;

    private const string GzipOneByteLonger = """
        {"t":"over fox over selection +On]1KNm)9ywP1O*.#N%+oTaY=s@D0;}UFX9~X-Y5Qvy,a[Js|en2RV2Y0<[,bSf>=TFChO7}{.vg0.do2bs~<T35ia]B[:TzudmPAe)hlq?;Z{1)JL;*p?_Oz{+id9eb2Q/EjO$AQ7s(t^i+FE@zG,*g~;m^DN6d)?@5XT?a*1*)Q[C}l-w8rH3)KvV:8O969K?UFv^$c3bd/:hbxWB)Mz.^s:O/KmZb=7Dcea3l_]*("}
        """;

    [Fact]
    public void A_message_the_original_client_compressed_is_read_back_to_its_json()
    {
        string json = "{\"text\":\"" + new string('a', 300) + "\"}";
        string payload = $"[\"m\",[\"t\",\"{Gzip(json)}\",true]]";
        Assert.True(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes(payload), 1024, out _, out _, out ReadOnlyMemory<byte> data, out string? problem), problem);
        Assert.Equal(json, Encoding.UTF8.GetString(data.Span));

        // A JSON encoder may escape characters of the base64 text (JSON.stringify does not, others escape '/' or '+').
        string base64 = Gzip(json);
        string escaped = $"[\"m\",[\"t\",\"\\u{(int)base64[0]:x4}{base64[1..]}\",true]]";
        Assert.True(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes(escaped), 1024, out _, out _, out data, out problem), problem);
        Assert.Equal(json, Encoding.UTF8.GetString(data.Span));
    }

    [Fact]
    public void A_gzip_bomb_is_refused_without_being_inflated_past_the_limit()
    {
        // 10 MB of zeros gzip to about 10 KB; the limit is 64 KiB.
        string bomb = Gzip(new string('0', 10_000_000));
        Assert.True(bomb.Length < 20_000);
        string payload = $"[\"m\",[\"t\",\"{bomb}\",true]]";
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes(payload), 64 * 1024, out _, out _, out _, out string? problem));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("limit", problem, StringComparison.Ordinal);
        Assert.True(allocated < 1_000_000, $"refusing the bomb allocated {allocated} bytes");

        // Data just within the limit after inflation is accepted; uncompressed data past it is refused too.
        string fits = "\"" + new string('0', (64 * 1024) - 2) + "\"";
        Assert.True(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes($"[\"m\",[\"t\",\"{Gzip(fits)}\",true]]"), 64 * 1024, out _, out _, out _, out problem), problem);
        string over = "\"" + new string('0', (64 * 1024) - 1) + "\"";
        Assert.False(CollaborationEvents.TryRead(Encoding.UTF8.GetBytes($"[\"m\",[\"t\",{over},false]]"), 64 * 1024, out _, out _, out _, out problem));
        Assert.Contains("limit", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_error_event_carries_its_text()
    {
        Assert.Equal("42[\"message_error\",\"Not allowed: \\\"x\\\"\"]", Encoding.UTF8.GetString(CollaborationEvents.EncodeMessageError("Not allowed: \"x\"")));
    }

    /// <summary>A JSON string of exactly <paramref name="bytes"/> UTF-8 bytes, quotes included, that compresses well.</summary>
    private static string Json(int bytes) => "\"" + new string('a', bytes - 2) + "\"";

    private static string Gzip(string json)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        return Convert.ToBase64String(output.ToArray());
    }

    private static string Gunzip(string base64)
    {
        using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
