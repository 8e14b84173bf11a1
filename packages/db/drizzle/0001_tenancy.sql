CREATE TABLE "access_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"workspace" text,
	"user" text NOT NULL,
	"role" smallint NOT NULL,
	"secret_hash" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"expire_time" timestamp with time zone,
	"revoke_time" timestamp with time zone,
	"last_used_time" timestamp with time zone,
	"rotated_from" text DEFAULT '' NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"workspace" text DEFAULT '' NOT NULL,
	"user" text DEFAULT '' NOT NULL,
	"access_key_id" text DEFAULT '' NOT NULL,
	"method" text NOT NULL,
	"resource" text DEFAULT '' NOT NULL,
	"code" text NOT NULL,
	"request_id" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "training_algorithm_code" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "training_algorithm_version" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "access_keys" ADD CONSTRAINT "access_keys_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_keys_workspace_idx" ON "access_keys" USING btree ("workspace","create_time" DESC NULLS LAST,"key_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_workspace_idx" ON "audit_events" USING btree ("workspace","id" DESC NULLS LAST);