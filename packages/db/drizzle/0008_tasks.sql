CREATE TABLE "param_templates" (
	"workspace" text NOT NULL,
	"template_id" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"types" jsonb NOT NULL,
	"schema" jsonb NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "param_templates_workspace_template_id_pk" PRIMARY KEY("workspace","template_id")
);
--> statement-breakpoint
CREATE TABLE "task_checkpoint_files" (
	"checkpoint_id" uuid NOT NULL,
	"path" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"media_type" text NOT NULL,
	CONSTRAINT "task_checkpoint_files_checkpoint_id_path_pk" PRIMARY KEY("checkpoint_id","path")
);
--> statement-breakpoint
CREATE TABLE "task_checkpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"task_id" uuid NOT NULL,
	"epoch" integer NOT NULL,
	"state" smallint DEFAULT 1 NOT NULL,
	"attempt" integer NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"file_count" integer DEFAULT 0 NOT NULL,
	"total_size" bigint DEFAULT 0 NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"commit_time" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "task_events" (
	"task_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"kind" smallint NOT NULL,
	"payload" jsonb NOT NULL,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_events_task_id_seq_pk" PRIMARY KEY("task_id","seq")
);
--> statement-breakpoint
CREATE TABLE "task_files" (
	"task_id" uuid NOT NULL,
	"kind" smallint NOT NULL,
	"path" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"media_type" text NOT NULL,
	CONSTRAINT "task_files_task_id_kind_path_pk" PRIMARY KEY("task_id","kind","path")
);
--> statement-breakpoint
CREATE TABLE "task_logs" (
	"task_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"text" text NOT NULL,
	"stream" text DEFAULT '' NOT NULL,
	"time" timestamp with time zone NOT NULL,
	CONSTRAINT "task_logs_task_id_seq_pk" PRIMARY KEY("task_id","seq")
);
--> statement-breakpoint
CREATE TABLE "task_metrics" (
	"task_id" uuid NOT NULL,
	"name" text NOT NULL,
	"step" bigint NOT NULL,
	"value" double precision NOT NULL,
	"epoch" integer DEFAULT 0 NOT NULL,
	"seq" bigint NOT NULL,
	"time" timestamp with time zone NOT NULL,
	CONSTRAINT "task_metrics_task_id_name_step_pk" PRIMARY KEY("task_id","name","step")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace" text NOT NULL,
	"task_id" text NOT NULL,
	"type" smallint NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"template" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"given_params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"queue" text NOT NULL,
	"req_gpu_count" integer DEFAULT 0 NOT NULL,
	"req_gpu_memory" bigint DEFAULT 0 NOT NULL,
	"req_cpu_count" integer DEFAULT 0 NOT NULL,
	"req_labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"base_version" text DEFAULT '' NOT NULL,
	"base_version_id" uuid,
	"model" text DEFAULT '' NOT NULL,
	"model_id" uuid,
	"parent_task" text DEFAULT '' NOT NULL,
	"parent_task_id" uuid,
	"data_version" text DEFAULT '' NOT NULL,
	"algorithm_code" text DEFAULT '' NOT NULL,
	"algorithm_version" text DEFAULT '' NOT NULL,
	"state" smallint NOT NULL,
	"progress" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"attempts_before" integer DEFAULT 0 NOT NULL,
	"worker_row_id" uuid,
	"worker" text DEFAULT '' NOT NULL,
	"lease_token" text DEFAULT '' NOT NULL,
	"lease_until" timestamp with time zone,
	"lines_recorded" bigint DEFAULT 0 NOT NULL,
	"stop_requested" boolean DEFAULT false NOT NULL,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"error_message" text DEFAULT '' NOT NULL,
	"result" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"resume_epoch" integer,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"log_bytes" bigint DEFAULT 0 NOT NULL,
	"dropped_lines" bigint DEFAULT 0 NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"request_id" text,
	"creator" text DEFAULT '' NOT NULL,
	"seq" bigserial NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	"start_time" timestamp with time zone,
	"end_time" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "workers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace" text NOT NULL,
	"worker_id" text NOT NULL,
	"hostname" text DEFAULT '' NOT NULL,
	"queues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"types" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cpu_count" integer DEFAULT 0 NOT NULL,
	"memory_bytes" bigint DEFAULT 0 NOT NULL,
	"gpus" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"concurrency" integer DEFAULT 1 NOT NULL,
	"agent" text DEFAULT '' NOT NULL,
	"last_seen_time" timestamp with time zone DEFAULT now() NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "upload_sessions" ADD COLUMN "task_id" uuid;--> statement-breakpoint
ALTER TABLE "param_templates" ADD CONSTRAINT "param_templates_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_checkpoint_files" ADD CONSTRAINT "task_checkpoint_files_checkpoint_id_task_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."task_checkpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_checkpoints" ADD CONSTRAINT "task_checkpoints_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_files" ADD CONSTRAINT "task_files_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_logs" ADD CONSTRAINT "task_logs_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_metrics" ADD CONSTRAINT "task_metrics_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_base_version_id_versions_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "public"."versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_worker_row_id_workers_id_fk" FOREIGN KEY ("worker_row_id") REFERENCES "public"."workers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workers" ADD CONSTRAINT "workers_workspace_workspaces_name_fk" FOREIGN KEY ("workspace") REFERENCES "public"."workspaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_checkpoint_files_sha256_idx" ON "task_checkpoint_files" USING btree ("sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "task_checkpoints_task_epoch_key" ON "task_checkpoints" USING btree ("task_id","epoch");--> statement-breakpoint
CREATE INDEX "task_files_sha256_idx" ON "task_files" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "task_metrics_seq_idx" ON "task_metrics" USING btree ("task_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_workspace_task_key" ON "tasks" USING btree ("workspace","task_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_workspace_request_key" ON "tasks" USING btree ("workspace","request_id");--> statement-breakpoint
CREATE INDEX "tasks_workspace_seq_idx" ON "tasks" USING btree ("workspace","seq");--> statement-breakpoint
CREATE INDEX "tasks_claim_idx" ON "tasks" USING btree ("workspace","queue","seq") WHERE state = 2;--> statement-breakpoint
CREATE INDEX "tasks_lease_idx" ON "tasks" USING btree ("lease_until") WHERE state in (3, 6);--> statement-breakpoint
CREATE INDEX "tasks_parent_idx" ON "tasks" USING btree ("parent_task_id");--> statement-breakpoint
CREATE INDEX "tasks_labels_idx" ON "tasks" USING gin ("labels" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "workers_workspace_worker_key" ON "workers" USING btree ("workspace","worker_id");--> statement-breakpoint
CREATE INDEX "workers_workspace_seen_idx" ON "workers" USING btree ("workspace","last_seen_time");--> statement-breakpoint
ALTER TABLE "upload_sessions" ADD CONSTRAINT "upload_sessions_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "upload_sessions_task_sha256_key" ON "upload_sessions" USING btree ("task_id","sha256");--> statement-breakpoint
CREATE INDEX "versions_source_task_idx" ON "versions" USING btree ("workspace","source_task");