# The Realtime host, built with the official .NET SDK image and run on the official ASP.NET image.
#   docker build -t realtime-server .   (or: docker compose up)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Server/Realtime.Server.Host/Realtime.Server.Host.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Realtime.Server.Host.dll"]
