// `inferlog validate -f FILE…`: the checks `inferlog up` runs, without starting anything.
import type { Command } from 'commander';
import { isInferlogError } from '../../core/errors.js';
import { loadInferenceServices } from '../../config/inferenceservice.js';
import { redactionCheck, SERVE_CHECKS } from '../service-checks.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'Check InferenceService YAML files: KServe CRD rules, inferlog annotations, and (with --serve) that inferlog up can serve them',
    )
    .requiredOption('-f, --file <files...>', 'InferenceService YAML file(s)')
    .option('--serve', 'also check that `inferlog up` can serve the model locally (format, model file)')
    .action((opts: { file: string[]; serve?: boolean }) => {
      let failed = 0;
      for (const file of opts.file) {
        try {
          const services = loadInferenceServices(file, opts.serve ? SERVE_CHECKS : [redactionCheck]);
          for (const svc of services) {
            const logger = svc.predictor.logger;
            const where = logger ? `logger → ${logger.url ?? 'stdout'} (mode ${logger.mode})` : 'no logger';
            process.stdout.write(
              `${file}: ok — InferenceService ${svc.namespace}/${svc.name}: predictor ${where}\n`,
            );
          }
        } catch (e) {
          if (!isInferlogError(e, 'CONFIG_INVALID')) throw e;
          failed++;
          process.stderr.write(e.message + '\n');
        }
      }
      process.exit(failed > 0 ? 1 : 0);
    });
}
