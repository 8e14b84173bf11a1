CREATE TABLE "blobs" (
	"sha256" text PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"md5" text,
	"claim_time" timestamp with time zone DEFAULT now() NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"secret" text NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upload_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace" text NOT NULL,
	"version_id" uuid,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"complete" boolean DEFAULT false NOT NULL,
	"access_key_id" text DEFAULT '' NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"expire_time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "version_files" (
	"version_id" uuid NOT NULL,
	"draft" boolean NOT NULL,
	"path" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"media_type" text NOT NULL,
	CONSTRAINT "version_files_version_id_draft_path_pk" PRIMARY KEY("version_id","draft","path")
);
--> statement-breakpoint
CREATE TABLE "workspace_blobs" (
	"workspace" text NOT NULL,
	"sha256" text NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspace_blobs_workspace_sha256_pk" PRIMARY KEY("workspace","sha256")
);
--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "state" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "file_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "total_size" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "manifest_digest" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "draft_staged" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "upload_sessions" ADD CONSTRAINT "upload_sessions_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_files" ADD CONSTRAINT "version_files_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_blobs" ADD CONSTRAINT "workspace_blobs_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_blobs" ADD CONSTRAINT "workspace_blobs_sha256_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "upload_sessions_version_sha256_key" ON "upload_sessions" USING btree ("version_id","sha256");--> statement-breakpoint
CREATE INDEX "upload_sessions_sha256_idx" ON "upload_sessions" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "version_files_sha256_idx" ON "version_files" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "workspace_blobs_sha256_idx" ON "workspace_blobs" USING btree ("sha256");