// A task row with what the API shows around it: its name, input and output
// files, the versions registered from it, and the checkpoint it resumes from.
import type { Database, TaskRow, Tx } from "@modelreg/db";
import { versionResourceName } from "../shared/resource-names.js";
import { checkpointResourceName, taskResourceName } from "./rules.js";
import { selectFiles, selectOutputVersions } from "./sql.js";
import type { TaskView } from "./types.js";

export async function viewOf(q: Tx | Database, row: TaskRow): Promise<TaskView> {
  const view = listView(row);
  const [files, outputs] = await Promise.all([selectFiles(q, row.id), selectOutputVersions(q, row.workspace, view.name)]);
  return {
    ...view,
    inputFiles: files.inputs,
    outputFiles: files.outputs,
    outputVersions: outputs.map((o) => versionResourceName(row.workspace, o.model, o.version)),
  };
}

/** The view a list page shows: two more queries per row would be slow, so lists leave files and output versions out. */
export function listView(row: TaskRow): TaskView {
  const name = taskResourceName(row.workspace, row.taskId);
  return { row, name, inputFiles: [], outputFiles: [], outputVersions: [], resumeCheckpoint: row.resumeEpoch === null ? "" : checkpointResourceName(name, row.resumeEpoch) };
}
