// Socket.IO 4, websocket transport only: join the room named by ?room=; "echo" answers the sender, "b" reaches the
// others in the room. Heartbeat 5 s like every system under test. Usage: node server.js <port>
const http = require("http");
const { Server } = require("socket.io");

const port = parseInt(process.argv[2], 10);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
  pingInterval: 5000,
  pingTimeout: 10000,
  perMessageDeflate: false,
  serveClient: false,
});

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room);
  socket.join(room);
  socket.on("echo", (payload) => socket.emit("m", payload));
  socket.on("b", (payload) => socket.to(room).emit("m", payload));
});

httpServer.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
