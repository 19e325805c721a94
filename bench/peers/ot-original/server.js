// The original framework's document server, for the document benchmark only: @mescius/js-collaboration with the
// document feature of @mescius/js-collaboration-ot on its in-memory database (MemoryDb), json0 registered as the type.
// Commercial packages: installed only in this folder (never in tests, CI or shipped code). Usage: node server.js <port>
const http = require("http");
const { Server } = require("@mescius/js-collaboration");
const { documentFeature, DocumentServices, MemoryDb, TypesManager } = require("@mescius/js-collaboration-ot");
const json0 = require("ot-json0").type;

const port = parseInt(process.argv[2], 10);
TypesManager.register(json0);
const httpServer = http.createServer();
const server = new Server({ httpServer }); // path "/collaboration/", websocket only, as the compatibility endpoint
server.useFeature(documentFeature(new DocumentServices({ db: new MemoryDb() })));
httpServer.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
