// A console chat: connects to a room on a Realtime server, sends each typed line as a "chat" message,
// and prints every message and connection event.
//   dotnet run --project samples/ConsoleChat -- [url] [room] [name]
using Realtime;
using Realtime.Client;

string url = args.Length > 0 ? args[0] : "ws://localhost:5000/realtime";
string room = args.Length > 1 ? args[1] : "room1";
string name = args.Length > 2 ? args[2] : Environment.UserName;

var client = new Client(url);
await using Connection connection = client.Connect(room, new ConnectOptions { Query = new Dictionary<string, string> { ["user"] = name } });

connection.On(ConnectionEvents.Connect, () => Console.WriteLine($"[connect] id {connection.Id} in room {connection.RoomId}"));
connection.On(ConnectionEvents.Disconnect, reason => Console.WriteLine($"[disconnect] {reason}"));
connection.On(ConnectionEvents.Error, error => Console.WriteLine($"[error] {error.Message}"));
connection.On(ConnectionEvents.ReconnectAttempt, attempt => Console.WriteLine($"[reconnect attempt] {attempt}"));
connection.On(ConnectionEvents.Reconnect, attempts => Console.WriteLine($"[reconnect] after {attempts} attempt(s)"));
connection.On(ConnectionEvents.ReconnectFailed, () => Console.WriteLine("[reconnect failed]"));
connection.On(ConnectionEvents.Message, message =>
{
    ChatLine? line = message.Type == "chat" ? message.GetData<ChatLine>() : null;
    Console.WriteLine(line is null ? $"[message] {message.Type}: {message.Data}" : $"{line.From}: {line.Text}");
});

Console.WriteLine($"Connecting to {client.Url} room {room} as {name}. Type a line to send it; an empty line quits.");
while (Console.ReadLine() is { Length: > 0 } text)
{
    await connection.SendAsync(new ChatLine(name, text), "chat");
}

await connection.CloseAsync();

internal sealed record ChatLine(string From, string Text);
