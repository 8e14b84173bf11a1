CREATE TABLE "model_aliases" (
	"model_id" uuid NOT NULL,
	"alias" text COLLATE "C" NOT NULL,
	"version_id" uuid NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_aliases_model_id_alias_pk" PRIMARY KEY("model_id","alias")
);
--> statement-breakpoint
CREATE TABLE "version_metrics" (
	"version_id" uuid NOT NULL,
	"model_id" uuid NOT NULL,
	"workspace" text NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"value" double precision NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "version_metrics_version_id_name_pk" PRIMARY KEY("version_id","name")
);
--> statement-breakpoint
DROP INDEX "versions_model_order_idx";--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "workspace" text;--> statement-breakpoint
-- Hand-added: existing versions take their model's workspace, then the column is required.
UPDATE "versions" v SET "workspace" = m."workspace" FROM "models" m WHERE m."id" = v."model_id";--> statement-breakpoint
ALTER TABLE "versions" ALTER COLUMN "workspace" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "seq" bigserial NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "lifecycle" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "framework" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "runtime" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "algorithm" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "source_location" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "source_task" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "source_job_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "source_job_version" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "data_version" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "source_type" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "metrics" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_metrics" ADD CONSTRAINT "version_metrics_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_aliases_version_idx" ON "model_aliases" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "version_metrics_workspace_idx" ON "version_metrics" USING btree ("workspace","name","value","seq");--> statement-breakpoint
CREATE INDEX "version_metrics_model_idx" ON "version_metrics" USING btree ("model_id","name","value","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "models_workspace_request_key" ON "models" USING btree ("workspace","request_id");--> statement-breakpoint
CREATE INDEX "versions_model_semver_idx" ON "versions" USING btree ("model_id","sort_key","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_model_request_key" ON "versions" USING btree ("model_id","request_id");--> statement-breakpoint
CREATE INDEX "versions_model_created_idx" ON "versions" USING btree ("model_id","seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "versions_workspace_created_idx" ON "versions" USING btree ("workspace","seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "versions_labels_idx" ON "versions" USING gin ("labels" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "versions_data_version_idx" ON "versions" USING btree ("workspace","data_version");