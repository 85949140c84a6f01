// npm run demo: the A/B test with feedback, its report and its decision carried out (demo-ab.ts);
// npm run demo -- --bandit: a multi-armed bandit learning from delayed feedback (demo-bandit.ts).
export {};
if (process.argv.includes('--bandit')) {
  process.argv.splice(process.argv.indexOf('--bandit'), 1);
  await import('./demo-bandit.ts');
} else {
  await import('./demo-ab.ts');
}
