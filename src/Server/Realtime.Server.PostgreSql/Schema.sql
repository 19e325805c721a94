-- The tables of the Realtime PostgreSQL document store (package Realtime.Server.PostgreSql), schema version 1.
--
-- The store runs this script itself when PostgresDocumentStoreOptions.CreateSchema is on (the default), in one transaction
-- under an advisory lock, so that nodes starting together do not race. Teams that migrate their own database turn it off and
-- run this script in their migrations. It is written for the defaults: schema public, table prefix realtime_; for other
-- names, replace public. and realtime_ throughout, or take the script from PostgresDocumentStore.GetSchemaScript(options).
-- Every statement can run again: nothing is dropped or changed when the tables exist.

-- One row per existing document: its version (the number of committed operations, a create counting), its type, and the
-- version and type of its latest stored snapshot (null before the first; it may lag the version of the document).
CREATE TABLE IF NOT EXISTS public.realtime_documents (
    id               text   NOT NULL PRIMARY KEY,
    version          bigint NOT NULL,
    type             text   NOT NULL,
    snapshot_version bigint NULL,
    snapshot_type    text   NULL
);

-- The op log: the operation committed at each version. The primary key settles a race between nodes: one op per version.
-- kind: 0 op, 1 create, 3 restore. payload: the UTF-8 JSON of the operation as it is on the wire.
CREATE TABLE IF NOT EXISTS public.realtime_operations (
    document text     NOT NULL,
    version  bigint   NOT NULL,
    source   text     NULL,
    sequence bigint   NOT NULL,
    kind     smallint NOT NULL,
    payload  bytea    NOT NULL,
    PRIMARY KEY (document, version)
);

-- A resent operation is found by the connection id of its submitter and sequence number.
CREATE INDEX IF NOT EXISTS realtime_operations_source ON public.realtime_operations (document, source, sequence);

-- The content of the latest snapshot, one row per fragment (UTF-8 JSON; types written in C# keep one, default).
CREATE TABLE IF NOT EXISTS public.realtime_snapshot_fragments (
    document text  NOT NULL,
    name     text  NOT NULL,
    data     bytea NOT NULL,
    PRIMARY KEY (document, name)
);

-- Milestone snapshots, kept for history reads and restores: one row per milestone, its content one row per fragment.
CREATE TABLE IF NOT EXISTS public.realtime_milestones (
    document text   NOT NULL,
    version  bigint NOT NULL,
    type     text   NOT NULL,
    PRIMARY KEY (document, version)
);

CREATE TABLE IF NOT EXISTS public.realtime_milestone_fragments (
    document text   NOT NULL,
    version  bigint NOT NULL,
    name     text   NOT NULL,
    data     bytea  NOT NULL,
    PRIMARY KEY (document, version, name)
);

-- The version of this schema: the store refuses to run on a schema newer than the one it knows.
CREATE TABLE IF NOT EXISTS public.realtime_schema (
    version integer NOT NULL PRIMARY KEY
);

INSERT INTO public.realtime_schema (version) VALUES (1) ON CONFLICT (version) DO NOTHING;
