DROP INDEX "versions_model_created_idx";--> statement-breakpoint
DROP INDEX "versions_workspace_created_idx";--> statement-breakpoint
CREATE INDEX "versions_model_seq_idx" ON "versions" USING btree ("model_id","seq");--> statement-breakpoint
CREATE INDEX "versions_workspace_seq_idx" ON "versions" USING btree ("workspace","seq");