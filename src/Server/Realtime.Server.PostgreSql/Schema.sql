-- The tables of the Realtime PostgreSQL document store (package Realtime.Server.PostgreSql), schema version 3.
--
-- The store runs this script itself when PostgresDocumentStoreOptions.CreateSchema is on (the default), in one transaction
-- under an advisory lock, so that nodes starting together do not race. Teams that migrate their own database turn it off and
-- run this script in their migrations. It is written for the defaults: schema public, table prefix realtime_; for other
-- names, replace public. and realtime_ throughout, or take the script from PostgresDocumentStore.GetSchemaScript(options).
-- Every statement can run again: nothing is dropped, and tables of an earlier version are upgraded in place (see the
-- upgrade steps below), so running this script is also the migration from any earlier version.

-- One row per existing document: its version (the number of committed operations, a create counting), its type, the
-- version and type of its latest stored snapshot (null before the first; it may lag the version of the document), and its
-- incarnation: which life of the document this is, given by the create that inserted the row (null when it gave none).
CREATE TABLE IF NOT EXISTS public.realtime_documents (
    id               text   NOT NULL PRIMARY KEY,
    version          bigint NOT NULL,
    type             text   NOT NULL,
    snapshot_version bigint NULL,
    snapshot_type    text   NULL,
    incarnation      text   NULL
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
-- committed_at: when the milestone was committed (null when unknown: such a milestone is never old enough to trim from).
-- Retention trims a document's history below its newest milestone old enough: it finds that milestone among the
-- document's own by this table's primary key, then deletes by the primary keys of the op log and the milestone tables.
CREATE TABLE IF NOT EXISTS public.realtime_milestones (
    document     text        NOT NULL,
    version      bigint      NOT NULL,
    type         text        NOT NULL,
    committed_at timestamptz NULL,
    PRIMARY KEY (document, version)
);

CREATE TABLE IF NOT EXISTS public.realtime_milestone_fragments (
    document text   NOT NULL,
    version  bigint NOT NULL,
    name     text   NOT NULL,
    data     bytea  NOT NULL,
    PRIMARY KEY (document, version, name)
);

-- The version of this schema: the store refuses to run on a schema newer than the one it knows, and on one older.
-- Each version the tables were brought to is a row; the highest is the schema's version.
CREATE TABLE IF NOT EXISTS public.realtime_schema (
    version integer NOT NULL PRIMARY KEY
);

INSERT INTO public.realtime_schema (version) VALUES (1) ON CONFLICT (version) DO NOTHING;

-- Upgrade from version 1 to 2: milestones keep when they were committed (for retention). Milestones written at version 1
-- have no time, and so are never trimmed from. Only tables below version 2 are altered: on current tables the script
-- takes no lock that would hold up reads and commits (nor needs the right to alter them).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.realtime_schema WHERE version >= 2) THEN
        ALTER TABLE public.realtime_milestones ADD COLUMN IF NOT EXISTS committed_at timestamptz NULL;
    END IF;
END
$$;

INSERT INTO public.realtime_schema (version) VALUES (2) ON CONFLICT (version) DO NOTHING;

-- Upgrade from version 2 to 3: a document's record keeps its incarnation (given by its create). Documents created before
-- have none (null). As above, only tables below version 3 are altered.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.realtime_schema WHERE version >= 3) THEN
        ALTER TABLE public.realtime_documents ADD COLUMN IF NOT EXISTS incarnation text NULL;
    END IF;
END
$$;

INSERT INTO public.realtime_schema (version) VALUES (3) ON CONFLICT (version) DO NOTHING;
