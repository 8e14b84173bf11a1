DROP INDEX "upload_sessions_version_sha256_key";--> statement-breakpoint
ALTER TABLE "upload_sessions" ALTER COLUMN "sha256" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "blobs" ADD COLUMN "head_sha256" text;--> statement-breakpoint
ALTER TABLE "upload_sessions" ADD COLUMN "head_sha256" text;--> statement-breakpoint
CREATE INDEX "blobs_size_head_sha256_idx" ON "blobs" USING btree ("size","head_sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "upload_sessions_version_sha256_key" ON "upload_sessions" USING btree ("version_id","sha256") WHERE "upload_sessions"."head_sha256" IS NULL;