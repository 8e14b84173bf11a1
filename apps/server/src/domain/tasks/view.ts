// A task row with what the API shows around it: its name, input and output
// files, the versions registered from it, and the checkpoint it resumes from.
import type { Database, TaskRow, Tx } from "@modelreg/db";
import { versionResourceName } from "../shared/resource-names.js";
import { checkpointResourceName, taskResourceName } from "./rules.js";
import { selectFiles, selectOutputVersions } from "./sql.js";
import type { TaskView } from "./types.js";

export async function viewOf(q: Tx | Database, row: TaskRow): Promise<TaskView> {
  const name = taskResourceName(row.workspace, row.taskId);
  const [files, outputs] = await Promise.all([selectFiles(q, row.id), selectOutputVersions(q, row.workspace, name)]);
  return {
    row,
    name,
    inputFiles: files.inputs,
    outputFiles: files.outputs,
    outputVersions: outputs.map((o) => versionResourceName(row.workspace, o.model, o.version)),
    resumeCheckpoint: row.resumeEpoch === null ? "" : checkpointResourceName(name, row.resumeEpoch),
  };
}

/** Views of many rows (a list page): two queries per row would be slow, so files are left out of lists. */
export function listView(row: TaskRow): TaskView {
  const name = taskResourceName(row.workspace, row.taskId);
  return { row, name, inputFiles: [], outputFiles: [], outputVersions: [], resumeCheckpoint: row.resumeEpoch === null ? "" : checkpointResourceName(name, row.resumeEpoch) };
}
