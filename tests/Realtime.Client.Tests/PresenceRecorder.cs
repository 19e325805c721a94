using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.TestSupport;

namespace Realtime.Client.Tests;

/// <summary>
/// Records a presence's events as text, one entry per connection: <c>add:id={json}</c>, <c>update:id={json}</c>, <c>remove:id</c>
/// (JSON compacted, key order kept), and lets a test await one of them.
/// </summary>
internal sealed class PresenceRecorder
{
    private readonly WatchedList<string> _events = new();

    public PresenceRecorder(Presence presence)
    {
        presence.On(PresenceEvents.Add, states => Record("add", states));
        presence.On(PresenceEvents.Update, states => Record("update", states));
        presence.On(PresenceEvents.Remove, ids =>
        {
            foreach (string id in ids)
            {
                _events.Add("remove:" + id);
            }
        });
    }

    public IReadOnlyList<string> Events => _events.Items;

    public static string Compact(JsonElement state) => JsonNode.Parse(state.GetRawText())?.ToJsonString() ?? "null";

    public Task WaitForAsync(string evt) => _events.WaitForAsync(e => e.Contains(evt), $"presence event '{evt}'");

    private void Record(string kind, IReadOnlyDictionary<string, JsonElement> states)
    {
        foreach ((string id, JsonElement state) in states.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            _events.Add($"{kind}:{id}={Compact(state)}");
        }
    }
}
