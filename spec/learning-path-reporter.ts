// `npm test` as a course: vitest's tree of sentences, printed in the order of spec/learning-path.ts
// under chapter headings instead of in the order files happen to finish. A file is printed as soon
// as it and every file before it have finished, so the course streams while the suite runs; the
// sequencer starts the files in that order. Per-test timings are left out (they are not the lesson).

import { BaseSequencer, DefaultReporter, type TestModule, type TestSpecification } from "vitest/node";
import { inCourseOrder, learningPath, placeOf } from "./learning-path.ts";

const relativePath = (root: string, moduleId: string): string => (moduleId.startsWith(`${root}/`) ? moduleId.slice(root.length + 1) : moduleId);

export class LearningPathReporter extends DefaultReporter {
  protected override verbose = true;
  override renderSucceed = true;
  #order: string[] = [];
  #finished = new Map<string, TestModule>();
  #printed = 0;
  #chapter = -1;

  override onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    super.onTestRunStart(specifications);
    const root = this.ctx.config.root;
    this.#order = inCourseOrder([...new Set(specifications.map((s) => s.moduleId))], (id) => relativePath(root, id));
    this.#finished.clear();
    this.#printed = 0;
    this.#chapter = -1;
  }

  // Called by vitest when a file has finished: hold it until the files before it are printed.
  protected override printTestModule(testModule: TestModule): void {
    this.#finished.set(testModule.moduleId, testModule);
    this.#flush(false);
  }

  override onTestRunEnd(...args: Parameters<DefaultReporter["onTestRunEnd"]>): void {
    this.#flush(true);
    super.onTestRunEnd(...args);
  }

  /** Print every finished file whose predecessors are printed (all finished files at the end). */
  #flush(all: boolean): void {
    while (this.#printed < this.#order.length) {
      const id = this.#order[this.#printed]!;
      const module = this.#finished.get(id);
      if (module === undefined && !all) return;
      this.#printed++;
      if (module === undefined) continue; // never ran (a cancelled run)
      const [chapter] = placeOf(relativePath(this.ctx.config.root, id));
      if (chapter !== this.#chapter) {
        this.#chapter = chapter;
        const title = learningPath[chapter]?.title ?? "Specs on no chapter of spec/learning-path.ts";
        this.log(`\n ${chapter + 1}. ${title}`);
      }
      super.printTestModule(module);
    }
  }

  protected override getTestCaseSuffix(): string {
    return "";
  }
}

/** Starts the spec files in course order, so that the first chapters print first. */
export class LearningPathSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return inCourseOrder(files, (spec) => relativePath(spec.project.config.root, spec.moduleId));
  }
}
