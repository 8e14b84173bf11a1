CREATE TABLE "models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace" text NOT NULL,
	"name" text NOT NULL,
	"name_key" text COLLATE "C" NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"version_count" integer DEFAULT 0 NOT NULL,
	"latest_version" text COLLATE "C" DEFAULT '' NOT NULL,
	"latest_sort_key" text COLLATE "C" DEFAULT '' NOT NULL,
	"next_auto_prefix" text COLLATE "C" DEFAULT '1.0.' NOT NULL,
	"next_auto_key_prefix" text COLLATE "C" DEFAULT 'A1A0' NOT NULL,
	"next_auto_patch" bigint DEFAULT 0 NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"model_id" uuid NOT NULL,
	"version" text COLLATE "C" NOT NULL,
	"sort_key" text COLLATE "C" NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"name" text PRIMARY KEY NOT NULL,
	"uid" uuid DEFAULT gen_random_uuid() NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspaces_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "models_workspace_name_key" ON "models" USING btree ("workspace","name_key");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_model_version_key" ON "versions" USING btree ("model_id","version");--> statement-breakpoint
CREATE INDEX "versions_model_order_idx" ON "versions" USING btree ("model_id","sort_key" DESC NULLS LAST,"version" DESC NULLS LAST);